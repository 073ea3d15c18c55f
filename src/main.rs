//! The `virtplane` binary: configuration, logging and tracing, the app, run until a
//! signal.

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
    let telemetry = match telemetry::init(config.log_format, &config.telemetry) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("virtplane: cannot set up tracing: {e:#}");
            std::process::exit(2);
        }
    };
    let app = App::build(config)
        .await
        .inspect_err(|e| tracing::error!("{e:#}"))?;
    let result = app.run(shutdown::signal()).await;
    telemetry.shutdown();
    result
}
