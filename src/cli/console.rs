//! `virtplanectl console`: the terminal attached to a domain's serial console. Input
//! goes line by line (no raw mode); Ctrl-] followed by Enter leaves.

use std::io::Read as _;

use tokio_stream::wrappers::ReceiverStream;

use super::{connect::Ctx, error::CliError, output::write_stdout};
use crate::grpc::pb::{self, console_input, console_output};

/// The byte Ctrl-] sends, as in `virsh console` and telnet.
const ESCAPE: u8 = 0x1d;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The running domain's name or UUID.
    domain: String,
    /// The device's alias (serial0, console1); default the first console.
    #[arg(long, default_value = "")]
    device: String,
    /// Take the console over from the client holding it.
    #[arg(long)]
    force: bool,
}

impl Args {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let open = console_input::Input::Open(pb::ConsoleOpen {
            domain: self.domain,
            device: self.device,
            force: self.force,
        });
        let _ = tx.try_send(pb::ConsoleInput { input: Some(open) });
        let (escape_tx, mut escaped) = tokio::sync::oneshot::channel::<()>();
        // stdin blocks: a thread of its own reads it. It is left blocked on exit.
        std::thread::spawn(move || pump_stdin(&tx, escape_tx));
        let mut stream = ctx
            .console()
            .open_console(ReceiverStream::new(rx))
            .await?
            .into_inner();
        loop {
            tokio::select! {
                message = stream.message() => match message?.and_then(|m| m.output) {
                    Some(console_output::Output::Opened(opened)) => eprintln!(
                        "connected to {} ({}); Ctrl-] then Enter leaves",
                        opened.domain_name, opened.device
                    ),
                    Some(console_output::Output::Data(data)) => write_stdout(&data)?,
                    None => return Ok(()),
                },
                _ = &mut escaped => return Ok(()),
            }
        }
    }
}

/// Sends what is typed until stdin ends or Ctrl-] comes; then signals the escape.
/// Closing stdin alone only stops input: output goes on, as with a pipe into it.
fn pump_stdin(
    tx: &tokio::sync::mpsc::Sender<pb::ConsoleInput>,
    escape: tokio::sync::oneshot::Sender<()>,
) {
    let mut stdin = std::io::stdin();
    let mut buffer = [0u8; 4096];
    loop {
        let read = match stdin.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let chunk = &buffer[..read];
        let (data, leave) = match chunk.iter().position(|b| *b == ESCAPE) {
            Some(at) => (&chunk[..at], true),
            None => (chunk, false),
        };
        if !data.is_empty() {
            let input = console_input::Input::Data(data.to_vec());
            if tx
                .blocking_send(pb::ConsoleInput { input: Some(input) })
                .is_err()
            {
                return;
            }
        }
        if leave {
            let _ = escape.send(());
            return;
        }
    }
}
