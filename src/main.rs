//! The `virtplane` binary: configuration, logging and tracing, the app, run until a
//! signal.

use std::time::Duration;

use clap::Parser;
use virtplane::{
    App,
    config::{Cli, Config},
    shutdown, telemetry,
};

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run());
    // A libvirt call abandoned by its deadline may still hold a blocking thread, and
    // dropping the runtime would wait for it: the stop sequence has already had its
    // grace period.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn run() -> anyhow::Result<()> {
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
