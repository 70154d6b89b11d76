//! `ssekit generate` and `ssekit watch` against the real server.

mod support;

use std::process::Command;

use support::tokens::{key_file, token, token_with, SECRET};
use support::*;

fn ssekit(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssekit"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn generate_follows_a_generation_to_its_document() {
    let server = Server::memory(&[]);
    let (ok, out, err) = ssekit(&[
        "generate",
        "tide pools",
        "--server",
        &server.base,
        "--blocks",
        "2",
        "--delay-ms",
        "5",
    ]);
    assert!(ok, "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("[gen_")).count() as u64,
        demo_events(2),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.contains("block-complete block 2/2")),
        "{out}"
    );
    let doc = lines
        .last()
        .unwrap()
        .strip_prefix("document: ")
        .expect("the document URL is printed last");
    assert!(
        doc.starts_with(&server.base) && doc.ends_with("/document"),
        "{doc}"
    );
    assert_eq!(http().get(doc).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn watch_prints_a_finished_streams_history_and_resumes_after_an_id() {
    let server = Server::memory(&[]);
    let created = create(&server, 1, 0).await;
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let (ok, out, _) = ssekit(&["watch", &url]);
    assert!(ok, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("[gen_")).count() as u64,
        demo_events(1)
    );
    let id = created["id"].as_str().unwrap();
    let (ok, out, _) = ssekit(&["watch", &url, "--last-event-id", &format!("{id}:10")]);
    assert!(ok, "{out}");
    let first = out.lines().next().unwrap();
    assert!(first.starts_with(&format!("[{id}:11]")), "{out}");
}

#[tokio::test]
async fn generate_reports_errors_with_a_failing_exit() {
    let server = Server::memory(&[]);
    let (ok, _, err) = ssekit(&["generate", "x", "--server", &server.base, "--blocks", "99"]);
    assert!(!ok);
    assert!(err.contains("422") && err.contains("blocks"), "{err}");

    let created = create(&server, 6, 100).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let watcher = std::thread::spawn(move || ssekit(&["watch", &url]));
    std::thread::sleep(std::time::Duration::from_millis(300));
    http()
        .delete(server.url(&format!("/v1/generations/{id}")))
        .send()
        .await
        .unwrap();
    let (ok, _, err) = watcher.join().unwrap();
    assert!(!ok);
    assert!(err.contains("cancelled"), "{err}");

    let (ok, _, err) = ssekit(&["watch", &server.url("/v1/generations/gen_nope/events")]);
    assert!(!ok);
    assert!(err.contains("404"), "{err}");
}

#[tokio::test]
async fn watch_resumes_across_a_server_crash_and_reports_the_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::sqlite(dir.path(), &["--retry", "200ms"]);
    let created = create(&server, 6, 60).await;
    let url = server.url(created["eventsUrl"].as_str().unwrap());
    let watcher = std::thread::spawn(move || ssekit(&["watch", &url]));
    std::thread::sleep(std::time::Duration::from_millis(700));
    server.restart_in_place();
    let (ok, out, err) = watcher.join().unwrap();
    assert!(!ok, "{out}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        out.contains("! connection lost; resuming after gen_"),
        "{out}"
    );
    let ids: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("[gen_"))
        .map(|l| &l[1..l.find(']').unwrap()])
        .collect();
    let seqs: Vec<u64> = ids
        .iter()
        .map(|i| i.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "each event once, in order"
    );
}

#[tokio::test]
async fn generate_and_watch_take_a_token() {
    let server = Server::memory(&["--auth-secret", SECRET]);
    let generate = |token: Option<&str>| {
        let mut args = vec![
            "generate",
            "owls",
            "--server",
            &server.base,
            "--blocks",
            "1",
        ];
        args.extend(token.map(|t| ["--token", t]).into_iter().flatten());
        ssekit(&args)
    };
    let (ok, _, err) = generate(None);
    assert!(!ok);
    assert!(err.contains("401"), "{err}");
    // `create` alone: the stream is followed with the answer's minted subscribe token.
    let (ok, out, err) = generate(Some(&token(serde_json::json!({ "create": true }))));
    assert!(ok, "{out}\n{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("[gen_")).count() as u64,
        demo_events(1),
        "{out}"
    );
    assert!(
        !out.contains("token="),
        "no token in what is printed: {out}"
    );

    let created = http()
        .post(server.url("/v1/generations"))
        .bearer_auth(token(serde_json::json!({ "create": true })))
        .json(&serde_json::json!({ "topic": "owls", "blocks": 1, "delayMs": 0 }))
        .send()
        .await
        .unwrap();
    let created: serde_json::Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let url = server.url(&format!("/v1/generations/{id}/events"));
    let (ok, _, err) = ssekit(&["watch", &url]);
    assert!(!ok);
    assert!(err.contains("token_missing"), "{err}");
    // From the variable, as a bearer.
    let out = Command::new(env!("CARGO_BIN_EXE_ssekit"))
        .args(["watch", &url])
        .env(
            "SSEKIT_TOKEN",
            token(serde_json::json!({ "subscribe": [id] })),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[tokio::test]
async fn generate_follows_with_its_own_token_when_the_server_mints_none() {
    let server = Server::memory(&["--auth-public-key", &key_file("ed25519.pub.pem")]);
    let private = std::fs::read(key_file("ed25519.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&private).unwrap();
    let token = |rights| token_with(rights, jsonwebtoken::Algorithm::EdDSA, &key);
    let base = server.base.clone();
    let generate = |token: &str| {
        ssekit(&[
            "generate", "owls", "--server", &base, "--blocks", "1", "--token", token,
        ])
    };
    let (ok, _, err) = generate(&token(serde_json::json!({ "create": true })));
    assert!(!ok, "no right to follow what it created");
    assert!(err.contains("403"), "{err}");
    let (ok, out, err) = generate(&token(
        serde_json::json!({ "create": true, "subscribe": ["gen_*"] }),
    ));
    assert!(ok, "{out}\n{err}");
}

#[test]
fn serve_stops_at_start_on_a_bad_auth_configuration() {
    if worker_target() {
        eprintln!("skipped on the Worker: these are the native flags");
        return;
    }
    let private = key_file("rsa.pem");
    let public = key_file("rsa.pub.pem");
    for (args, says) in [
        (vec!["--auth-secret", "short"], "at least 32 bytes"),
        (
            vec!["--auth-public-key", "/nonexistent/key.pem"],
            "--auth-public-key: cannot read",
        ),
        (vec!["--auth-public-key", &private], "private key"),
        (
            vec!["--auth-secret", SECRET, "--auth-public-key", &public],
            "cannot be used with",
        ),
        (
            vec!["--auth-secret", SECRET, "--auth-token-secret", SECRET],
            "--auth-token-secret goes with --auth-public-key",
        ),
        (vec!["--auth-audience", "x"], "needs auth on"),
        (vec!["--create-rate", "10/h"], "expected N/s or N/min"),
        (vec!["--trusted-proxy", "proxy.local"], "invalid IP address"),
    ] {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0", "--store", "memory"];
        all.extend(&args);
        let (ok, out, err) = ssekit(&all);
        assert!(!ok, "{args:?} must not start: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
