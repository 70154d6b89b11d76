//! Who may do what (DESIGN §9), the same on both front ends: the token a request presents,
//! checked against its route's right by `ssekit_api::auth`, and the creation rate limit per
//! client address.
//!
//! Each route checks after its routing and id-syntax checks and before it touches the store,
//! reads a body or starts work: a refused client learns nothing (not even whether a stream
//! exists) and costs nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts, HeaderName, HeaderValue, Method};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use ssekit_api::auth::{find_token, Action, Presented};
use ssekit_api::join_header_values;
use ssekit_api::response::Creation;

use crate::error::ApiError;
use crate::{AppState, Config};

/// Who sent a request, as far as access is concerned: the token it presents and its address.
pub struct Caller {
    /// Looked for only when auth is on.
    presented: Option<Presented>,
    /// The client's address (see [`client_addr`]).
    addr: IpAddr,
}

impl Caller {
    /// From a request's head: `authorization`, `cookie` and `forwarded_for` are the header
    /// values (repeated lines joined, see [`join_cookies`]); `reads` is whether the route is a
    /// `GET`, where a token may also come in the query or the cookie.
    pub fn new(
        config: &Config,
        reads: bool,
        authorization: Option<&[u8]>,
        query: &str,
        cookie: Option<&[u8]>,
        forwarded_for: Option<&[u8]>,
        peer: IpAddr,
    ) -> Self {
        let presented = config
            .auth
            .as_ref()
            .and_then(|_| find_token(text(authorization), query, text(cookie), reads));
        Self {
            presented,
            addr: client_addr(peer, text(forwarded_for), &config.trusted_proxies),
        }
    }

    /// The token presented, when auth is on.
    pub fn presented(&self) -> Option<&Presented> {
        self.presented.as_ref()
    }

    /// Checks that the caller may do `action`; always may when auth is off.
    pub fn may(&self, state: &AppState, action: Action<'_>) -> Result<(), ApiError> {
        let Some(auth) = &state.config.auth else {
            return Ok(());
        };
        auth.authorize(self.presented.as_ref(), &action, now_secs())
            .inspect_err(|e| {
                state.metrics.auth_refusals.inc();
                // The reason, never the token.
                tracing::debug!(?action, client = %self.addr, code = e.code().as_str(), reason = %e, "refused");
            })
    }

    /// Checks that the caller may create a stream now: the right to, then the rate limit.
    pub fn may_create(&self, state: &AppState) -> Result<(), ApiError> {
        self.may(state, Action::Create)?;
        match &state.create_limit {
            Some(limit) => limit.check(self.addr).inspect_err(|e| {
                state.metrics.rate_limited.inc();
                tracing::debug!(client = %self.addr, retry_after = e.retry_after_secs(), "creation rate-limited");
            }),
            None => Ok(()),
        }
    }
}

/// The axum routes' caller: the peer address comes from the [`ConnectInfo`] the connection
/// loop puts on every request.
impl FromRequestParts<AppState> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let config = &state.config;
        let values = |name: HeaderName| {
            parts
                .headers
                .get_all(name)
                .into_iter()
                .map(HeaderValue::as_bytes)
        };
        let (authorization, cookie) = match config.auth {
            Some(_) => (
                join_header_values(values(header::AUTHORIZATION)),
                join_cookies(values(header::COOKIE)),
            ),
            None => (None, None),
        };
        let forwarded_for = match config.trusted_proxies.is_empty() {
            true => None,
            false => join_header_values(values(HeaderName::from_static(FORWARDED_FOR))),
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        // axum answers HEAD with the GET handler.
        let reads = parts.method == Method::GET || parts.method == Method::HEAD;
        Ok(Self::new(
            config,
            reads,
            authorization.as_deref(),
            parts.uri.query().unwrap_or(""),
            cookie.as_deref(),
            forwarded_for.as_deref(),
            peer,
        ))
    }
}

/// A header's value as text. Bytes, not `HeaderValue::to_str`, on both front ends: a value
/// that is UTF-8 but not ASCII must be read the same by each.
fn text(value: Option<&[u8]>) -> Option<&str> {
    value.and_then(|v| std::str::from_utf8(v).ok())
}

/// The header a proxy names the client in.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// Joins repeated `Cookie` lines with `"; "`, as HTTP/2 joins its split cookie fields: with
/// `", "` the pair after the join would not be found.
pub fn join_cookies<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for v in values {
        match &mut out {
            None => out = Some(v.to_vec()),
            Some(joined) => {
                joined.extend_from_slice(b"; ");
                joined.extend_from_slice(v);
            }
        }
    }
    out
}

/// The client's address: the TCP peer, or — only when the peer is a trusted proxy — the
/// rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Entries further left
/// were written by the client and prove nothing; an entry that is not an address ends the
/// search at the peer.
pub fn client_addr(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    if !is_trusted(&peer) {
        return peer;
    }
    for entry in forwarded_for.unwrap_or("").rsplit(',').map(str::trim) {
        let parsed = entry
            .parse::<IpAddr>()
            .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()));
        match parsed.map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

/// Seconds since the epoch, the clock tokens are checked against.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Adds a subscribe token for stream `id` to a creation answer, when auth is on and a secret
/// signs them.
pub fn add_subscribe_token(state: &AppState, answer: &mut impl Creation, id: &str) {
    if let Some(token) = state
        .config
        .auth
        .as_ref()
        .and_then(|auth| auth.mint_subscribe(id, now_secs()))
    {
        answer.add_subscribe_token(&token);
    }
}

/// Parses `--create-rate`: `N/s` or `N/min`, N at least 1; N creations may come at once, then
/// one per 1/N of the period.
pub fn parse_create_rate(s: &str) -> Result<Quota, String> {
    let wrong = || format!("expected N/s or N/min (N ≥ 1), got {s:?}");
    let (n, per) = s.trim().split_once('/').ok_or_else(wrong)?;
    let n: NonZeroU32 = n.trim().parse().map_err(|_| wrong())?;
    match per.trim() {
        "s" => Ok(Quota::per_second(n)),
        "min" => Ok(Quota::per_minute(n)),
        _ => Err(wrong()),
    }
}

/// Creations allowed per client address (a GCRA limiter per key, in a `DashMap`).
pub struct CreateLimit<C: Clock = DefaultClock> {
    limiter: RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl CreateLimit {
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<C: Clock + Clone> CreateLimit<C> {
    fn with_clock(quota: Quota, clock: C) -> Self {
        Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
        }
    }

    /// One creation by `client`: `429 rate_limited` with `Retry-After` (whole seconds, at
    /// least 1) over the rate.
    pub fn check(&self, client: IpAddr) -> Result<(), ApiError> {
        self.limiter.check_key(&key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::rate_limited(u32::try_from(secs).unwrap_or(u32::MAX))
        })
    }

    /// Forgets clients whose allowance is whole again, so the table holds only recent ones.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// The key a client is limited by: its address, or for IPv6 its /64 — one host is commonly
/// given a whole /64 and could otherwise change address for every request.
fn key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use ssekit_api::ErrorCode;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_names_it() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not a proxy: its own X-Forwarded-For is ignored.
        assert_eq!(
            client_addr(ip("203.0.113.9"), Some("1.1.1.1"), &proxies),
            ip("203.0.113.9")
        );
        // A proxy: the rightmost entry that is not a proxy; what the client wrote on the left
        // is not believed.
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("6.6.6.6, 198.51.100.7"), &proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(
                ip("10.0.0.1"),
                Some("6.6.6.6,198.51.100.7 , 10.0.0.2"),
                &proxies
            ),
            ip("198.51.100.7")
        );
        // Nothing else, or garbage where the client should be: the peer.
        assert_eq!(client_addr(ip("10.0.0.1"), None, &proxies), ip("10.0.0.1"));
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("10.0.0.2"), &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("6.6.6.6, unknown"), &proxies),
            ip("10.0.0.1")
        );
        // With a port, and an IPv4 peer seen on an IPv6 socket.
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.1"), Some("198.51.100.7:4321"), &proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("[2001:db8::1]:80"), &proxies),
            ip("2001:db8::1")
        );
        // No proxies configured.
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("1.1.1.1"), &[]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn rates_parse_per_second_and_per_minute() {
        assert_eq!(
            parse_create_rate("5/s"),
            Ok(Quota::per_second(NonZeroU32::new(5).unwrap()))
        );
        assert_eq!(
            parse_create_rate("30/min"),
            Ok(Quota::per_minute(NonZeroU32::new(30).unwrap()))
        );
        for bad in ["", "5", "0/s", "-1/s", "5/h", "x/min", "5/"] {
            assert!(parse_create_rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn over_the_rate_is_429_with_whole_seconds_to_wait_per_client() {
        let clock = FakeRelativeClock::default();
        let limit = CreateLimit::with_clock(parse_create_rate("2/min").unwrap(), clock.clone());
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        assert!(limit.check(a).is_ok() && limit.check(a).is_ok());
        let e = limit.check(a).unwrap_err();
        assert_eq!(
            (e.status().as_u16(), e.code()),
            (429, ErrorCode::RateLimited)
        );
        // One more every 30 s.
        assert_eq!(e.retry_after_secs(), Some(30));
        assert!(e.body().contains("\"rate_limited\""));
        // Another client is unaffected.
        assert!(limit.check(b).is_ok());
        clock.advance(Duration::from_millis(29_500));
        assert_eq!(limit.check(a).unwrap_err().retry_after_secs(), Some(1));
        clock.advance(Duration::from_millis(500));
        assert!(limit.check(a).is_ok());
        // Once their allowance is whole again, clients are forgotten.
        clock.advance(Duration::from_secs(120));
        limit.forget_idle();
        assert_eq!(limit.len(), 0);
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_64() {
        let limit = CreateLimit::with_clock(
            parse_create_rate("1/min").unwrap(),
            FakeRelativeClock::default(),
        );
        assert!(limit.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(limit.check(ip("2001:db8:1:2:ffff::9")).is_err());
        assert!(limit.check(ip("2001:db8:1:3::1")).is_ok());
    }
}
