//! ssekit's HTTP API (DESIGN §2–4) as a Cloudflare Worker: the same routes, ids, headers and
//! stream semantics as the native server, built from the same wire-format, vocabulary, demo and
//! API crates.
//!
//! - [`routes`]: the Worker's entry: CORS, validation, and the hand-off to a stream's object.
//! - [`stream`]: the Durable Object, one per stream: its log, its pipeline, its connections.
//! - [`log`]: the stream's log in the object's SQLite storage.
//! - [`pipeline`]: the `demo` pipeline on the Workers runtime.
//! - [`respond`]: building responses (JSON, errors, SSE, CORS).
//! - [`call`]: the requests the Worker makes of a stream's object.
//! - [`config`]: settings from the Worker's variables.

mod call;
mod config;
mod log;
mod pipeline;
mod respond;
mod routes;
mod stream;

pub use stream::Stream;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::handle(req, env).await
}
