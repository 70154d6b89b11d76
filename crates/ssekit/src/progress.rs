//! `ssekit generate` and `ssekit watch`: a generation followed live in the terminal.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use ssekit_client::{Options, Subscription, Update};
use ssekit_events::Event;

/// Arguments of `ssekit generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// What the generation is about.
    pub topic: String,
    /// The server's base URL.
    #[arg(long, env = "SSEKIT_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Content blocks (1–50).
    #[arg(long)]
    pub blocks: Option<u32>,
    /// Pause between events, in ms (0–10000).
    #[arg(long)]
    pub delay_ms: Option<u64>,
    /// The pipeline to run.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// A token for a server with auth on: it must grant `create`. The generation is then
    /// followed with the subscribe token the creation answer carries (when the server mints
    /// them), else with this token, which then must grant `subscribe` too (e.g. `gen_*`).
    #[arg(long, env = "SSEKIT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Arguments of `ssekit watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The stream's events URL.
    pub url: String,
    /// Resume after this event id.
    #[arg(long)]
    pub last_event_id: Option<String>,
    /// A token for a server with auth on, granting `subscribe` to the stream: sent as
    /// `Authorization: Bearer` on every request, reconnects included.
    #[arg(long, env = "SSEKIT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

type Error = Box<dyn std::error::Error>;

pub async fn generate(args: GenerateArgs) -> Result<(), Error> {
    let base =
        reqwest::Url::parse(&args.server).map_err(|e| format!("--server {}: {e}", args.server))?;
    let mut body = serde_json::json!({ "topic": args.topic });
    for (key, value) in [
        ("blocks", args.blocks.map(serde_json::Value::from)),
        ("delayMs", args.delay_ms.map(serde_json::Value::from)),
        ("pipeline", args.pipeline.map(serde_json::Value::from)),
    ] {
        if let Some(v) = value {
            body[key] = v;
        }
    }
    let mut req = reqwest::Client::new()
        .post(base.join("/v1/generations")?)
        .json(&body);
    if let Some(token) = &args.token {
        req = req.bearer_auth(token);
    }
    let res = req
        .send()
        .await
        .map_err(|e| format!("cannot reach {base}: {e}"))?;
    let status = res.status();
    let created: serde_json::Value = res.json().await.unwrap_or_default();
    if !status.is_success() {
        let message = created["error"]["message"].as_str().unwrap_or("no details");
        return Err(format!("the server refused the generation ({status}): {message}").into());
    }
    let events = created["eventsUrl"]
        .as_str()
        .ok_or("the server sent no eventsUrl")?;
    let mut url = base.join(events)?;
    // The minted token may only subscribe, to this generation: the safest to follow with.
    let token = created["token"].as_str().map(str::to_owned).or(args.token);
    // It goes in the header; a URL is shown in messages.
    without_token(&mut url);
    follow(url, None, token).await
}

pub async fn watch(args: WatchArgs) -> Result<(), Error> {
    let url = reqwest::Url::parse(&args.url).map_err(|e| format!("{}: {e}", args.url))?;
    follow(url, args.last_event_id, args.token).await
}

/// Removes `?token=` from `url`.
fn without_token(url: &mut reqwest::Url) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "token")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
}

async fn follow(
    url: reqwest::Url,
    last_event_id: Option<String>,
    token: Option<String>,
) -> Result<(), Error> {
    let mut view = View::new(std::io::stdout().is_terminal());
    let mut sub = Subscription::new(
        url.as_str(),
        Options {
            last_event_id,
            token,
            ..Options::default()
        },
    );
    let mut outcome: Option<Result<(), String>> = None;
    while let Some(update) = sub.next().await {
        match update {
            Ok(Update::Event(e)) => {
                view.event(&e.id.to_string(), &e.event);
                if e.event.is_terminal() {
                    outcome = Some(match &e.event {
                        Event::GenerationComplete(_) => Ok(()),
                        Event::Error(err) => Err(format!("{} (stage {})", err.message, err.stage)),
                        _ => Ok(()),
                    });
                }
            }
            Ok(Update::Reconnecting {
                after,
                delay,
                attempt,
            }) => view.note(&format!(
                "connection lost; resuming after {} in {:.1}s (attempt {attempt})",
                after.as_deref().unwrap_or("the start"),
                delay.as_secs_f64()
            )),
            Err(e @ ssekit_client::ClientError::InvalidEvent { .. }) => view.note(&e.to_string()),
            Err(e) => outcome = Some(Err(e.to_string())),
        }
    }
    view.finish();
    match outcome {
        Some(Ok(())) => {
            if let Some(doc) = view.state.document_url.as_deref() {
                println!("document: {}", url.join(doc)?);
            }
            Ok(())
        }
        Some(Err(message)) => Err(message.into()),
        None => Err(format!(
            "the stream ended without a terminal event (last id {:?})",
            sub.last_event_id()
        )
        .into()),
    }
}

/// What the terminal shows, folded from the events.
#[derive(Default)]
struct State {
    total: u32,
    done: u32,
    stage: String,
    document_url: Option<String>,
}

impl State {
    /// Folds an event; returns a one-line description of it.
    fn apply(&mut self, event: &Event) -> String {
        match event {
            Event::GenerationStart(e) => {
                self.total = e.total_blocks;
                self.stage = format!("starting ({})", e.model);
                format!("{} blocks by {}", e.total_blocks, e.model)
            }
            Event::ReasoningStart(_) => {
                self.stage = "reasoning".into();
                self.stage.clone()
            }
            Event::ReasoningStep(e) => {
                self.stage = format!("reasoning: {}", e.content);
                format!("step {}: {}", e.step, e.content)
            }
            Event::ReasoningComplete(e) => format!("reasoning done in {} ms", e.duration),
            Event::BlockStart(e) => {
                self.stage = format!("block {}/{}: {}", e.block_index + 1, self.total, e.title);
                self.stage.clone()
            }
            Event::BlockContent(e) => format!(
                "block {}: {} bytes of HTML",
                e.block_index + 1,
                e.html.len()
            ),
            Event::BlockComplete(e) => {
                self.done += 1;
                format!("block {}/{}", e.block_index + 1, self.total)
            }
            Event::ImagePlaceholder(e) => {
                format!("image {} for block {}", e.image_id, e.block_index + 1)
            }
            Event::ImageReady(e) => format!("image {} ready", e.image_id),
            Event::PersistStart(e) => {
                self.stage = format!("saving to {}", e.target);
                self.stage.clone()
            }
            Event::PersistComplete(e) => {
                self.document_url = Some(e.url.clone());
                format!("saved: {}", e.url)
            }
            Event::GenerationComplete(e) => {
                self.stage = "complete".into();
                format!("complete in {} ms", e.total_duration)
            }
            Event::Error(e) => {
                format!(
                    "error in {}{}: {}",
                    e.stage,
                    if e.recoverable { " (recoverable)" } else { "" },
                    e.message
                )
            }
            // The application's own: shown as it came, cut to one screen line.
            Event::App(e) => {
                let mut data = e.data.to_string();
                if let Some((cut, _)) = data.char_indices().nth(120) {
                    data.truncate(cut);
                    data.push('…');
                }
                self.stage = format!("{} {data}", e.name);
                data
            }
        }
    }
}

/// Progress bars on a terminal, one plain line per event elsewhere (logs, tests, CI).
struct View {
    state: State,
    bar: Option<ProgressBar>,
}

impl View {
    fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} blocks  {msg}")
                    .expect("valid template")
                    .progress_chars("█▉▊▋▌▍▎▏ "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            state: State::default(),
            bar,
        }
    }

    fn event(&mut self, id: &str, event: &Event) {
        let line = self.state.apply(event);
        match &self.bar {
            Some(bar) => {
                bar.set_length(u64::from(self.state.total));
                bar.set_position(u64::from(self.state.done));
                bar.set_message(self.state.stage.clone());
                if matches!(event, Event::Error(_)) {
                    bar.println(line);
                }
            }
            None => println!("[{id}] {} {line}", event.name()),
        }
    }

    fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("! {text}")),
            None => println!("! {text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(self.state.stage.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssekit_events::{BlockComplete, GenerationStart};

    #[test]
    fn the_token_leaves_the_url_and_the_rest_of_the_query_stays() {
        let mut url = reqwest::Url::parse("http://h/v1/generations/g/events?token=a.b.c").unwrap();
        without_token(&mut url);
        assert_eq!(url.as_str(), "http://h/v1/generations/g/events");
        let mut url = reqwest::Url::parse("http://h/e?x=1&token=t&y=2").unwrap();
        without_token(&mut url);
        assert_eq!(url.as_str(), "http://h/e?x=1&y=2");
    }

    #[test]
    fn counts_blocks_and_remembers_the_stage() {
        let mut s = State::default();
        s.apply(&Event::GenerationStart(GenerationStart {
            session_id: "g".into(),
            total_blocks: 2,
            model: "m".into(),
        }));
        let line = s.apply(&Event::BlockComplete(BlockComplete {
            block_index: 0,
            block_id: "b".into(),
        }));
        assert_eq!((s.total, s.done, line.as_str()), (2, 1, "block 1/2"));
    }

    #[test]
    fn shows_application_events_as_they_came() {
        let mut s = State::default();
        let line = s.apply(&Event::app("import.progress", serde_json::json!({"done": 1})).unwrap());
        assert_eq!(line, r#"{"done":1}"#);
        assert_eq!(s.stage, r#"import.progress {"done":1}"#);
        let long = Event::app("import.log", serde_json::json!("x".repeat(500))).unwrap();
        assert_eq!(s.apply(&long).chars().count(), 121);
    }
}
