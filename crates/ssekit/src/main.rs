//! `ssekit`: the server and its command-line tools.

#[cfg(not(target_env = "msvc"))]
mod memory;
mod progress;
mod serve;

use clap::{Parser, Subcommand};

/// Resumable, typed, durable Server-Sent Events for long-running work.
#[derive(Parser)]
#[command(name = "ssekit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: the HTTP API, the pipelines and the demo page.
    // Boxed: its flags make it several times the size of the others.
    Serve(Box<serve::ServeArgs>),
    /// Start a generation and follow it live with progress bars.
    Generate(progress::GenerateArgs),
    /// Follow an existing stream (an events URL) with progress bars.
    Watch(progress::WatchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    #[cfg(not(target_env = "msvc"))]
    builder.on_thread_park(memory::on_worker_park);
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ssekit: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(*args).await,
            Command::Generate(args) => progress::generate(args).await,
            Command::Watch(args) => progress::watch(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ssekit: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
