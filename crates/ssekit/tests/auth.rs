//! Who may do what (DESIGN §9), black-box against whichever target `SSEKIT_TARGET` names: the
//! native server or the Worker must answer every case the same way.

mod support;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use support::tokens::*;
use support::*;

fn with_secret(extra: &[&str]) -> Server {
    let mut args = vec!["--auth-secret", SECRET];
    args.extend_from_slice(extra);
    Server::memory(&args)
}

/// `POST /v1/generations` with the bearer `token`, checked to answer 201.
async fn create_with(server: &Server, token: &str, blocks: u32, delay_ms: u64) -> Value {
    let res = http()
        .post(server.url("/v1/generations"))
        .bearer_auth(token)
        .json(&json!({ "topic": "authorized streams", "blocks": blocks, "delayMs": delay_ms }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// `POST /v1/streams` with the bearer `token`, checked to answer 201.
async fn create_stream_with(server: &Server, token: &str) -> Value {
    let res = http()
        .post(server.url("/v1/streams"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// Every route that needs a token, as (method, path), for generation `gen` and publish stream
/// `stream`.
fn guarded(gen: &str, stream: &str) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    vec![
        (Method::POST, "/v1/generations".into()),
        (Method::POST, "/v1/streams".into()),
        (Method::GET, "/v1/generate?topic=owls".into()),
        (Method::GET, format!("/v1/generations/{gen}/events")),
        (Method::GET, format!("/v1/streams/{stream}/events")),
        (Method::GET, format!("/v1/generations/{gen}")),
        (Method::GET, format!("/v1/generations/{gen}/images/1")),
        (Method::GET, format!("/v1/generations/{gen}/document")),
        (Method::DELETE, format!("/v1/generations/{gen}")),
        (Method::POST, format!("/v1/streams/{stream}/events")),
        // A stream that does not exist is refused the same way: no token, no answer about it.
        (
            Method::GET,
            "/v1/generations/gen_nosuchstream/events".into(),
        ),
    ]
}

async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut req = http().request(method.clone(), server.url(path));
    if method == reqwest::Method::POST {
        let body = if path.ends_with("/events") {
            json!({ "event": "reasoning-step", "data": { "step": 1, "content": "x" } })
        } else {
            json!({ "topic": "owls", "blocks": 1, "delayMs": 1 })
        };
        req = req.json(&body);
    }
    if let Some(bearer) = bearer {
        req = req.bearer_auth(bearer);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn with_auth_off_nothing_changes_and_creation_answers_carry_no_token() {
    let server = Server::memory(&[]);
    let created = create(&server, 1, 1).await;
    assert!(created.get("token").is_none(), "{created}");
    let url = created["eventsUrl"].as_str().unwrap();
    assert!(!url.contains('?'), "{url}");
    let id = created["id"].as_str().unwrap();
    let events = Sse::open(&server.url(url), None).await.collect().await;
    assert_sequence(&events, id, 1, demo_events(1));
    let stream = create_stream(&server).await;
    assert!(stream.get("token").is_none(), "{stream}");
}

/// A refusal's `WWW-Authenticate` (RFC 6750), which every front end takes from
/// `ApiError::headers`; empty when there is none.
fn challenge(res: &reqwest::Response) -> &str {
    res.headers()
        .get("www-authenticate")
        .map_or("", |v| v.to_str().unwrap())
}

/// A valid token without the right (RFC 6750 §3.1): `403 forbidden`, challenged with
/// `Bearer error="insufficient_scope"`.
async fn assert_insufficient_scope(res: reqwest::Response, what: &str) {
    assert_eq!(
        challenge(&res),
        r#"Bearer error="insufficient_scope""#,
        "{what}"
    );
    assert_eq!(error_of(res).await, (403, "forbidden".into()), "{what}");
}

/// Every guarded route — a subscription (the native server's fast path) and the routes hyper
/// serves alike — answers `401` with its challenge: `WWW-Authenticate: Bearer`, and
/// `error="invalid_token"` for a token it refused.
#[tokio::test]
async fn every_guarded_route_answers_401_without_a_valid_token() {
    let server = with_secret(&[]);
    let gen = create_with(&server, &admin(), 1, 1).await;
    let stream = create_stream_with(&server, &admin()).await;
    let (gen, stream) = (gen["id"].as_str().unwrap(), stream["id"].as_str().unwrap());

    let other_key = hs(
        json!({ "exp": now() + 600, "ssekit": { "create": true, "subscribe": ["*"] } }),
        b"another-secret-of-at-least-thirty-two-bytes",
    );
    let expired = hs(
        json!({ "exp": now() - 3600, "ssekit": { "create": true, "subscribe": ["*"], "publish": ["*"], "cancel": ["*"] } }),
        SECRET.as_bytes(),
    );
    let no_exp = hs(
        json!({ "ssekit": { "create": true, "subscribe": ["*"], "publish": ["*"], "cancel": ["*"] } }),
        SECRET.as_bytes(),
    );
    // {"alg":"none","typ":"JWT"} . {"exp":4102444800,"ssekit":{every right}} . no signature
    let alg_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJleHAiOjQxMDI0NDQ4MDAsInNzZWtpdCI6eyJjcmVhdGUiOnRydWUsInN1YnNjcmliZSI6WyIqIl0sInB1Ymxpc2giOlsiKiJdLCJjYW5jZWwiOlsiKiJdfX0.";

    for (method, path) in guarded(gen, stream) {
        let res = send(&server, method.clone(), &path, None).await;
        assert_eq!(challenge(&res), "Bearer", "{method} {path} without a token");
        assert_eq!(
            error_of(res).await,
            (401, "token_missing".into()),
            "{method} {path} without a token"
        );
        for (bad, code) in [
            (expired.as_str(), "token_expired"),
            (other_key.as_str(), "token_invalid"),
            (no_exp.as_str(), "token_invalid"),
            (alg_none, "token_invalid"),
            ("not-a-jwt", "token_invalid"),
        ] {
            let res = send(&server, method.clone(), &path, Some(bad)).await;
            assert_eq!(
                challenge(&res),
                r#"Bearer error="invalid_token""#,
                "{method} {path} with {code}"
            );
            assert_eq!(
                error_of(res).await,
                (401, code.into()),
                "{method} {path} with {code}: {bad}"
            );
        }
    }
    // The demo page, its assets, the health check and the OpenAPI document stay open.
    for open in ["/", "/healthz", "/openapi.json"] {
        let res = http().get(server.url(open)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{open}");
    }
}

#[tokio::test]
async fn a_valid_token_without_the_right_is_forbidden() {
    let server = with_secret(&[]);
    let created = create_with(&server, &admin(), 3, 100).await;
    let id = created["id"].as_str().unwrap();
    let events = server.url(&format!("/v1/generations/{id}/events"));

    // Another stream, a prefix of this id given as an exact id, and no subscribe right at all.
    let shorter = &id[..id.len() - 1];
    for rights in [
        json!({ "subscribe": ["gen_other"] }),
        json!({ "subscribe": [shorter] }),
        json!({ "create": true, "publish": ["*"], "cancel": ["*"] }),
    ] {
        let res = http()
            .get(&events)
            .bearer_auth(token(rights.clone()))
            .send()
            .await
            .unwrap();
        assert_insufficient_scope(res, &format!("subscribe with {rights}")).await;
    }
    // The same prefix as a pattern matches.
    let prefix = token(json!({ "subscribe": [format!("{shorter}*")] }));
    let sse = Sse::send(http().get(&events).bearer_auth(&prefix)).await;
    assert_eq!(sse.status, 200);

    let subscribe_only = token(json!({ "subscribe": ["*"] }));
    for (method, path) in [
        (reqwest::Method::POST, "/v1/generations".to_string()),
        (reqwest::Method::POST, "/v1/streams".to_string()),
        (reqwest::Method::GET, "/v1/generate?topic=owls".to_string()),
        (reqwest::Method::DELETE, format!("/v1/generations/{id}")),
    ] {
        let res = send(&server, method.clone(), &path, Some(&subscribe_only)).await;
        assert_insufficient_scope(res, &format!("{method} {path}")).await;
    }
}

#[tokio::test]
async fn a_subscription_takes_its_token_from_the_header_the_query_or_a_cookie() {
    let server = with_secret(&[]);
    let created = create_with(&server, &admin(), 1, 1).await;
    let id = created["id"].as_str().unwrap();
    let n = demo_events(1);
    let reader = token(json!({ "subscribe": [id] }));
    let events = server.url(&format!("/v1/generations/{id}/events"));

    let by_header = Sse::send(http().get(&events).bearer_auth(&reader)).await;
    let by_query = Sse::send(http().get(format!("{events}?token={reader}"))).await;
    let by_cookie = Sse::send(
        http()
            .get(&events)
            .header("cookie", format!("theme=dark; ssekit_token={reader}")),
    )
    .await;
    for (how, mut sse) in [
        ("header", by_header),
        ("query", by_query),
        ("cookie", by_cookie),
    ] {
        assert_eq!(sse.status, 200, "{how}");
        assert_sequence(&sse.collect().await, id, 1, n);
    }
    // The snapshot, too.
    let res = http()
        .get(server.url(&format!("/v1/generations/{id}?token={reader}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let snap: Value = res.json().await.unwrap();
    assert_eq!(snap["status"], "complete");

    // A cookie is sent by the browser on its own, so it may subscribe and nothing more: not read
    // at all on a POST, and a GET that would create is forbidden.
    let cookie = format!("ssekit_token={}", admin());
    let res = http()
        .post(server.url("/v1/generations"))
        .header("cookie", &cookie)
        .json(&json!({ "topic": "owls" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res).await, (401, "token_missing".into()));
    let res = http()
        .get(server.url("/v1/generate?topic=owls"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_insufficient_scope(res, "a cookie's token creating").await;
}

#[tokio::test]
async fn creation_answers_hand_back_a_token_for_that_stream_only() {
    let server = with_secret(&[]);
    let creator = token(json!({ "create": true }));
    let created = create_with(&server, &creator, 1, 1).await;
    let id = created["id"].as_str().unwrap();
    let minted = created["token"].as_str().expect("a subscribe token");
    let url = created["eventsUrl"].as_str().unwrap();
    assert_eq!(url, format!("/v1/generations/{id}/events?token={minted}"));

    // One URL is all a browser needs.
    let events = Sse::open(&server.url(url), None).await.collect().await;
    assert_sequence(&events, id, 1, demo_events(1));
    let res = http()
        .get(server.url(&format!("/v1/generations/{id}")))
        .bearer_auth(minted)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // It reads that stream and does nothing else.
    let other = create_with(&server, &creator, 1, 1).await;
    let other = other["id"].as_str().unwrap();
    let res = http()
        .get(server.url(&format!("/v1/generations/{other}/events")))
        .bearer_auth(minted)
        .send()
        .await
        .unwrap();
    assert_insufficient_scope(res, "a minted token reading another stream").await;
    for (method, path) in [
        (reqwest::Method::POST, "/v1/generations".to_string()),
        (reqwest::Method::DELETE, format!("/v1/generations/{id}")),
    ] {
        let res = send(&server, method.clone(), &path, Some(minted)).await;
        assert_insufficient_scope(res, &format!("a minted token: {method} {path}")).await;
    }

    // A publish stream's answer carries one as well, beside its publish token.
    let stream = create_stream_with(&server, &creator).await;
    let sid = stream["id"].as_str().unwrap();
    let minted = stream["token"].as_str().expect("a subscribe token");
    assert_eq!(
        stream["eventsUrl"],
        format!("/v1/generations/{sid}/events?token={minted}")
    );
    assert!(stream["publishToken"].is_string());
}

#[tokio::test]
async fn a_resumed_subscription_keeps_its_token() {
    let server = with_secret(&[]);
    let created = create_with(&server, &token(json!({ "create": true })), 2, 20).await;
    let id = created["id"].as_str().unwrap();
    let minted = created["token"].as_str().unwrap();
    let n = demo_events(2);

    let mut first = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(first.next_event().await.unwrap());
    }
    drop(first);
    let last = seen.last().unwrap().id.clone();
    // Last-Event-ID with the token in the header…
    let mut resumed = Sse::send(
        http()
            .get(server.url(&format!("/v1/generations/{id}/events")))
            .bearer_auth(minted)
            .header("last-event-id", &last),
    )
    .await;
    assert_eq!(resumed.status, 200);
    let rest = resumed.collect().await;
    assert_sequence(&rest, id, 4, n);
    // …and both in the query, as the browser client reconnects.
    let mut again = Sse::open(
        &server.url(&format!(
            "/v1/generations/{id}/events?lastEventId={last}&token={minted}"
        )),
        None,
    )
    .await;
    assert_sequence(&again.collect().await, id, 4, n);

    // The one-shot route creates with a create token in the query, and resumes with a token that
    // may read the stream the resume position names.
    let url = format!(
        "/v1/generate?topic=owls&blocks=1&delayMs=1&token={}",
        token(json!({ "create": true }))
    );
    let mut shot = Sse::open(&server.url(&url), None).await;
    assert_eq!(shot.status, 200);
    let events = shot.collect().await;
    let gid = events[0].id.rsplit_once(':').unwrap().0.to_string();
    assert_sequence(&events, &gid, 1, demo_events(1));
    let reader = token(json!({ "subscribe": [gid.clone()] }));
    let resumed = Sse::send(
        http()
            .get(server.url(&format!("/v1/generate?token={reader}")))
            .header("last-event-id", format!("{gid}:5")),
    )
    .await;
    assert_eq!(resumed.status, 200);
    let res = http()
        .get(server.url("/v1/generate"))
        .bearer_auth(token(json!({ "subscribe": ["gen_other"] })))
        .header("last-event-id", format!("{gid}:5"))
        .send()
        .await
        .unwrap();
    assert_insufficient_scope(res, "resuming another stream").await;
}

#[tokio::test]
async fn publishing_takes_the_publish_token_or_a_jwt_with_publish_rights() {
    let server = with_secret(&[]);
    let stream = create_stream_with(&server, &token(json!({ "create": true }))).await;
    let id = stream["id"].as_str().unwrap();
    let url = server.url(stream["publishUrl"].as_str().unwrap());
    let step = |n: u64| json!({ "event": "reasoning-step", "data": { "step": n, "content": "x" } });

    let res = post_events(&url, stream["publishToken"].as_str().unwrap(), &step(1)).await;
    assert_eq!(res.status(), 201);
    let by_jwt = token(json!({ "publish": ["str_*"] }));
    let res = post_events(&url, &by_jwt, &step(2)).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["lastEventId"], format!("{id}:2"));

    let res = post_events(&url, &token(json!({ "publish": ["str_other"] })), &step(3)).await;
    assert_insufficient_scope(res, "publish to another stream").await;
    let res = post_events(&url, &token(json!({ "subscribe": ["*"] })), &step(3)).await;
    assert_insufficient_scope(res, "no publish right").await;
    let res = post_events(&url, "pub_not_the_token", &step(3)).await;
    assert_eq!(challenge(&res), r#"Bearer error="invalid_token""#);
    assert_eq!(error_of(res).await, (401, "token_invalid".into()));
    // A generation is written by its pipeline alone, whatever a token's publish pattern says.
    let gen = create_with(&server, &admin(), 3, 100).await;
    let gen_url = server.url(&format!(
        "/v1/streams/{}/events",
        gen["id"].as_str().unwrap()
    ));
    // No token would do: no challenge.
    let res = post_events(&gen_url, &token(json!({ "publish": ["*"] })), &step(1)).await;
    assert_eq!(challenge(&res), "");
    assert_eq!(error_of(res).await, (403, "forbidden".into()));

    // Nothing refused was appended.
    let res = post_events(
        &url,
        &by_jwt,
        &json!({ "event": "generation-complete", "data": { "success": true, "totalDuration": 3 } }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let events = Sse::send(
        http()
            .get(server.url(&format!("/v1/streams/{id}/events")))
            .bearer_auth(token(json!({ "subscribe": [id] }))),
    )
    .await
    .collect()
    .await;
    assert_sequence(&events, id, 1, 3);
}

#[tokio::test]
async fn cancelling_needs_the_cancel_right_for_that_generation() {
    let server = with_secret(&[]);
    let created = create_with(&server, &admin(), 10, 300).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/generations/{id}");
    for rights in [
        json!({ "subscribe": ["*"], "create": true }),
        json!({ "cancel": ["gen_other"] }),
    ] {
        let res = send(
            &server,
            reqwest::Method::DELETE,
            &path,
            Some(&token(rights.clone())),
        )
        .await;
        assert_insufficient_scope(res, &format!("cancel with {rights}")).await;
    }
    let res = send(
        &server,
        reqwest::Method::DELETE,
        &path,
        Some(&token(json!({ "cancel": [id] }))),
    )
    .await;
    assert_eq!(res.status(), 202);
}

#[tokio::test]
async fn a_public_key_fixes_the_algorithm() {
    let claims = json!({ "exp": now() + 600, "ssekit": { "create": true, "subscribe": ["*"] } });
    for (name, algorithm, private) in [
        (
            "rsa",
            Algorithm::RS256,
            EncodingKey::from_rsa_pem as fn(&[u8]) -> _,
        ),
        ("ec", Algorithm::ES256, EncodingKey::from_ec_pem),
        ("ed25519", Algorithm::EdDSA, EncodingKey::from_ed_pem),
    ] {
        let public = key_file(&format!("{name}.pub.pem"));
        let server = Server::memory(&["--auth-public-key", &public]);
        let pem = std::fs::read(key_file(&format!("{name}.pem"))).unwrap();
        let signed = sign(&claims, algorithm, &private(&pem).unwrap());
        let created = create_with(&server, &signed, 1, 1).await;
        // Nothing to sign a subscribe token with: the answer has none, and the app's own
        // token reads the stream.
        assert!(created.get("token").is_none(), "{name}: {created}");
        let url = server.url(created["eventsUrl"].as_str().unwrap());
        let sse = Sse::send(http().get(&url).bearer_auth(&signed)).await;
        assert_eq!(sse.status, 200, "{name}");

        // HS256 with some secret, and HS256 keyed with the public key itself: refused.
        let public_pem = std::fs::read(&public).unwrap();
        for forged in [
            hs(claims.clone(), SECRET.as_bytes()),
            hs(claims.clone(), &public_pem),
        ] {
            let res = send(
                &server,
                reqwest::Method::POST,
                "/v1/generations",
                Some(&forged),
            )
            .await;
            assert_eq!(error_of(res).await, (401, "token_invalid".into()), "{name}");
        }
    }

    // With a secret to sign them, creation answers carry subscribe tokens again.
    let server = Server::memory(&[
        "--auth-public-key",
        &key_file("ec.pub.pem"),
        "--auth-token-secret",
        SECRET,
    ]);
    let pem = std::fs::read(key_file("ec.pem")).unwrap();
    let signed = sign(
        &claims,
        Algorithm::ES256,
        &EncodingKey::from_ec_pem(&pem).unwrap(),
    );
    let created = create_with(&server, &signed, 1, 1).await;
    let id = created["id"].as_str().unwrap();
    let mut sse = Sse::open(&server.url(created["eventsUrl"].as_str().unwrap()), None).await;
    assert_eq!(sse.status, 200);
    assert_sequence(&sse.collect().await, id, 1, demo_events(1));
}

#[tokio::test]
async fn issuer_and_audience_are_required_when_configured() {
    let server = with_secret(&["--auth-issuer", "my-app", "--auth-audience", "ssekit"]);
    let rights = json!({ "create": true });
    let exp = now() + 600;
    for (claims, status) in [
        (json!({ "exp": exp, "ssekit": rights }), 401),
        (
            json!({ "exp": exp, "iss": "my-app", "ssekit": rights }),
            401,
        ),
        (
            json!({ "exp": exp, "aud": "ssekit", "ssekit": rights }),
            401,
        ),
        (
            json!({ "exp": exp, "iss": "other", "aud": "ssekit", "ssekit": rights }),
            401,
        ),
        (
            json!({ "exp": exp, "iss": "my-app", "aud": ["x", "ssekit"], "ssekit": rights }),
            201,
        ),
    ] {
        let res = send(
            &server,
            reqwest::Method::POST,
            "/v1/generations",
            Some(&hs(claims.clone(), SECRET.as_bytes())),
        )
        .await;
        assert_eq!(res.status(), status, "{claims}");
        if status == 201 {
            // The minted token carries the issuer and audience, so it passes the same checks.
            let created: Value = res.json().await.unwrap();
            let url = server.url(created["eventsUrl"].as_str().unwrap());
            assert_eq!(Sse::open(&url, None).await.status, 200);
        } else {
            assert_eq!(error_of(res).await.1, "token_invalid");
        }
    }
}

#[tokio::test]
async fn the_readmes_shell_one_liner_mints_a_token_the_server_takes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let after = readme
        .split("<!-- mint:shell -->")
        .nth(1)
        .expect("the README marks its minting one-liner");
    let line = after
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("\n```").next())
        .expect("a sh block after the marker");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{line}\nprintf %s \"$TOKEN\""))
        .env("SSEKIT_AUTH_SECRET", SECRET)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let minted = String::from_utf8(out.stdout).unwrap();

    let server = with_secret(&[]);
    let created = create_with(&server, &minted, 1, 1).await;
    let id = created["id"].as_str().unwrap();
    let events = Sse::send(
        http()
            .get(server.url(&format!("/v1/generations/{id}/events")))
            .bearer_auth(&minted),
    )
    .await
    .collect()
    .await;
    assert_sequence(&events, id, 1, demo_events(1));
}
