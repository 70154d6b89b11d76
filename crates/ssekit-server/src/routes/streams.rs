//! The publish API: any backend creates a stream and appends events to it with a bearer token.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use ssekit_api::auth::Action;
use ssekit_api::response::Published;
use ssekit_api::ErrorCode;

use crate::access::{self, Caller};
use crate::error::ApiError;
use crate::extract::{read_body, PathParams};
use crate::pipeline::new_id;
use crate::store::now_ms;
use crate::AppState;

/// `POST /v1/streams` → `201 {id, publishToken, eventsUrl, publishUrl}`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    caller.may_create(&state)?;
    let body = read_body(req, &state.config).await?;
    let (meta, mut answer) =
        ssekit_api::create_stream(&body, new_id("str_"), new_id("pub_"), now_ms())?;
    let id = meta.id.clone();
    state.store.create(meta).await?;
    access::add_subscribe_token(&state, &mut answer, &id);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v1/streams/{id}/events` with `Authorization: Bearer TOKEN` (the stream's publish
/// token, or with auth on a JWT that may publish to it); body `{event, data}` or
/// `{events: [{event, data}, …]}` → `201 {ids, lastEventId}`. With an `Idempotency-Key`
/// (checked after the publisher and the body), a retry of the same events stores nothing and
/// answers the first answer again with `Idempotency-Replayed: true`.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    path: PathParams,
    req: Request,
) -> Result<Response, ApiError> {
    let id = path.first();
    ssekit_api::stream_id(&id)?;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    check_publisher(&state, &caller, &id, authorization).await?;
    // Owned: the body is read from the request next.
    let key_values: Vec<Vec<u8>> = req
        .headers()
        .get_all(ssekit_api::IDEMPOTENCY_KEY)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect();
    let body = read_body(req, &state.config).await?;
    let events = ssekit_api::publish_events(&body)?;
    let key_values: Vec<&[u8]> = key_values.iter().map(Vec::as_slice).collect();
    let key = ssekit_api::idempotency_key(&key_values)?;
    let appended = match key {
        None => state.store.append(&id, events).await.map(|e| (e, false)),
        Some(key) => state
            .store
            .append_once(&id, key, events)
            .await
            .map(|a| (a.events, a.replayed)),
    };
    let (stored, replayed) = match appended {
        Ok(stored) => stored,
        Err(e) => {
            // Ended, expired or gone: the store's answer stands; the next request asks it again.
            state.tokens.remove(&id);
            return Err(e.into());
        }
    };
    if stored.last().is_some_and(|e| e.terminal) {
        state.tokens.remove(&id);
    }
    let answer = Published::new(&id, stored.iter().map(|e| e.seq));
    let mut res = (StatusCode::CREATED, Json(answer)).into_response();
    if replayed {
        // The first answer again, said to be one: nothing was appended now.
        res.headers_mut().insert(
            ssekit_api::IDEMPOTENCY_REPLAYED,
            axum::http::HeaderValue::from_static("true"),
        );
    } else {
        state.metrics.events_appended.inc_by(stored.len() as u64);
    }
    Ok(res)
}

/// Checks the publisher of stream `id`. Auth off: the stream's publish token, as ever. Auth on:
/// the publish token or a JWT with the right to publish to it; a request that presents neither
/// learns nothing of the stream (the store's answers, 404 or 410, are not passed on).
async fn check_publisher(
    state: &AppState,
    caller: &Caller,
    id: &str,
    authorization: Option<&str>,
) -> Result<(), ApiError> {
    if state.config.auth.is_none() {
        let token = publish_token(state, id).await?;
        return ssekit_api::check_publish_token(authorization, &token);
    }
    // A JWT always has dots, a publish token never: only a token that may be one is compared,
    // and only then is the store asked for it.
    let maybe_publish_token = caller.presented().is_some_and(|p| !p.token.contains('.'));
    if maybe_publish_token {
        match publish_token(state, id).await {
            Ok(token) if ssekit_api::check_publish_token(authorization, &token).is_ok() => {
                return Ok(())
            }
            // A failing store says nothing of the stream.
            Err(e) if e.code() == ErrorCode::StoreUnavailable => return Err(e),
            _ => {}
        }
    }
    caller.may(state, Action::Publish(id))?;
    // A published stream has a publish token: one in the table needs no trip to the store.
    if state.tokens.get(id).is_some_and(|token| !token.is_empty()) {
        return Ok(());
    }
    let meta = state.store.meta(id).await?;
    state.tokens.insert(id, ssekit_api::publish_token(&meta));
    ssekit_api::auth::check_publishable(&meta)
}

/// Stream `id`'s publish token, from the table or the store.
async fn publish_token(state: &AppState, id: &str) -> Result<Arc<str>, ApiError> {
    Ok(match state.tokens.get(id) {
        Some(token) => token,
        None => {
            let meta = state.store.meta(id).await?;
            state.tokens.insert(id, ssekit_api::publish_token(&meta))
        }
    })
}

/// The publish tokens of streams being published to, so that a publish asks the store only to
/// append: looking the token up in the stream's record took a second trip through the store
/// per request (a read on the SQLite reader threads), a large share of an HTTP append's cost
/// (BENCHMARKS.md, "A publish asks the store once"). A token never changes; an entry goes when its stream ends or an append is
/// refused, and the oldest-inserted go first when the table is full.
#[derive(Default)]
pub(crate) struct PublishTokens {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    tokens: HashMap<Box<str>, Arc<str>>,
    /// Insertion order, for eviction; may name ids already removed.
    order: VecDeque<Box<str>>,
}

impl PublishTokens {
    /// Streams whose tokens are kept at most (about 150 bytes each).
    const CAPACITY: usize = 4096;

    fn get(&self, id: &str) -> Option<Arc<str>> {
        self.lock().tokens.get(id).cloned()
    }

    /// Keeps `token` as stream `id`'s and returns it.
    fn insert(&self, id: &str, token: &str) -> Arc<str> {
        let token: Arc<str> = token.into();
        let mut entries = self.lock();
        let Entries { tokens, order } = &mut *entries;
        while tokens.len() >= Self::CAPACITY {
            match order.pop_front() {
                Some(old) => tokens.remove(&old),
                None => break,
            };
        }
        if tokens.insert(id.into(), token.clone()).is_none() {
            order.push_back(id.into());
        }
        // Ids removed earlier still sit in `order`; drop them before it outgrows the table.
        if order.len() > 2 * Self::CAPACITY {
            order.retain(|id| tokens.contains_key(id));
        }
        token
    }

    fn remove(&self, id: &str) {
        self.lock().tokens.remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic elsewhere cannot leave the table inconsistent: every change is one call.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::PublishTokens;

    #[test]
    fn keeps_at_most_its_capacity_oldest_out_first() {
        let tokens = PublishTokens::default();
        for i in 0..PublishTokens::CAPACITY + 10 {
            tokens.insert(&format!("str_{i}"), &format!("pub_{i}"));
        }
        assert_eq!(tokens.lock().tokens.len(), PublishTokens::CAPACITY);
        assert!(tokens.get("str_9").is_none());
        assert_eq!(tokens.get("str_10").as_deref(), Some("pub_10"));
        let last = PublishTokens::CAPACITY + 9;
        assert_eq!(
            tokens.get(&format!("str_{last}")).as_deref(),
            Some(&*format!("pub_{last}"))
        );
    }

    #[test]
    fn removed_ids_do_not_pile_up_in_the_order() {
        let tokens = PublishTokens::default();
        for i in 0..10 * PublishTokens::CAPACITY {
            let id = format!("str_{i}");
            tokens.insert(&id, "pub");
            tokens.remove(&id);
        }
        let entries = tokens.lock();
        assert!(entries.tokens.is_empty());
        assert!(entries.order.len() <= 2 * PublishTokens::CAPACITY);
    }
}
