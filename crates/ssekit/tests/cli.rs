//! `ssekit generate` and `ssekit watch` against the real server.

mod support;

use std::process::Command;

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
