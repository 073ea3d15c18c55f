//! Parses the command line, runs the command on a small runtime, and turns its outcome
//! into one line on stderr and an exit code.

use std::process::ExitCode;

use clap::Parser;

use super::{
    args::{Cli, Command},
    completions,
    connect::Ctx,
    error::CliError,
    output::Printer,
};

/// Runs `virtplanectl` with the process's arguments; the exit code tells the class of
/// failure (see the exit codes in `--help`).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return report(&CliError::Other(format!("cannot start a runtime: {e}"))),
    };
    let outcome = runtime.block_on(execute(cli));
    // The console's stdin reader may still be blocked on a read it never gets.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn report(error: &CliError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(error.exit_code())
}

async fn execute(cli: Cli) -> Result<(), CliError> {
    let Cli {
        connection,
        output,
        command,
    } = cli;
    // Only the commands that call the service connect.
    let ctx =
        || -> Result<Ctx, CliError> { Ok(Ctx::new(connection.connect()?, Printer::new(output))) };
    match command {
        Command::Completions { shell } => completions::write(shell),
        Command::Domains(command) => command.run(&ctx()?).await,
        Command::Events(command) => command.run(&ctx()?).await,
        Command::Host(command) => command.run(&ctx()?).await,
        Command::Brokers(command) => command.run(&ctx()?).await,
        Command::Pools(command) => command.run(&ctx()?).await,
        Command::Publish(args) => args.run(&ctx()?).await,
        Command::Webhooks(command) => command.run(&ctx()?).await,
        Command::Snapshots(command) => command.run(&ctx()?).await,
        Command::Devices(command) => command.run(&ctx()?).await,
        Command::Stats(command) => command.run(&ctx()?).await,
        Command::Guest(command) => command.run(&ctx()?).await,
        Command::Console(args) => args.run(&ctx()?).await,
        Command::Storage(command) => command.run(&ctx()?).await,
        Command::Networks(command) => command.run(&ctx()?).await,
    }
}
