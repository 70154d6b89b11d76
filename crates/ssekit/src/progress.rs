//! `ssekit generate` and `ssekit watch`: a generation followed live in the terminal.

use clap::Args;

/// Arguments of `ssekit generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// What the generation is about.
    pub topic: String,
    /// The server's base URL.
    #[arg(long, env = "SSEKIT_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
}

/// Arguments of `ssekit watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The stream's events URL.
    pub url: String,
}

pub async fn generate(_args: GenerateArgs) -> Result<(), Box<dyn std::error::Error>> {
    Err("not built yet".into())
}

pub async fn watch(_args: WatchArgs) -> Result<(), Box<dyn std::error::Error>> {
    Err("not built yet".into())
}
