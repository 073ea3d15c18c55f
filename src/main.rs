//! The `virtplane` binary: configuration, logging, the app, run until a signal.

use clap::Parser;
use virtplane::{
    App,
    config::{Cli, Config},
    shutdown, telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = match Config::load(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("virtplane: {e}");
            std::process::exit(2);
        }
    };
    telemetry::init(config.log_format);
    let app = App::build(config)
        .await
        .inspect_err(|e| tracing::error!("{e:#}"))?;
    app.run(shutdown::signal()).await
}
