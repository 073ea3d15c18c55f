//! OpenConsole against the busybox guest: its boot banner, a command typed and its
//! answer read back, one client per console unless `force`, and the stream's end
//! when the domain stops or the libvirt connection drops.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{
    Code, Status, Streaming,
    transport::{Channel, Endpoint},
};
use virtplane::grpc::pb::{
    self, console_input::Input, console_output::Output,
    console_service_client::ConsoleServiceClient,
};

use super::guest::{BOOT, app_on, busybox, define, start};
use crate::support::{
    TestApp,
    qemu::{self, QemuDaemon, READY_LINE},
    unique_name,
};

/// How long a command typed into the guest may take to answer under TCG.
const ANSWER: Duration = Duration::from_secs(60);

/// One OpenConsole stream, as a client holds it.
pub(super) struct Console {
    input: mpsc::Sender<pb::ConsoleInput>,
    output: Streaming<pb::ConsoleOutput>,
    opened: pb::ConsoleOpened,
    /// Everything the guest wrote so far.
    pub(super) seen: String,
}

impl Console {
    pub(super) async fn open(
        app: &TestApp,
        domain: &str,
        device: &str,
        force: bool,
    ) -> Result<Console, Status> {
        Console::open_on(app.channel.clone(), domain, device, force).await
    }

    pub(super) async fn open_on(
        channel: Channel,
        domain: &str,
        device: &str,
        force: bool,
    ) -> Result<Console, Status> {
        let (input, rx) = mpsc::channel(16);
        input
            .send(pb::ConsoleInput {
                input: Some(Input::Open(pb::ConsoleOpen {
                    domain: domain.into(),
                    device: device.into(),
                    force,
                })),
            })
            .await
            .expect("queued");
        let mut output = ConsoleServiceClient::new(channel)
            .open_console(ReceiverStream::new(rx))
            .await?
            .into_inner();
        let first = output.message().await?.expect("a first message");
        let Some(Output::Opened(opened)) = first.output else {
            panic!("the first message is `opened`: {first:?}");
        };
        Ok(Console {
            input,
            output,
            opened,
            seen: String::new(),
        })
    }

    pub(super) async fn type_line(&self, line: &str) {
        self.input
            .send(pb::ConsoleInput {
                input: Some(Input::Data(format!("{line}\n").into_bytes())),
            })
            .await
            .expect("the session takes input");
    }

    /// Reads until `needle` appears in what the guest wrote.
    pub(super) async fn read_until(&mut self, needle: &str, within: Duration) {
        let read = tokio::time::timeout(within, async {
            while !self.seen.contains(needle) {
                match self.output.message().await {
                    Ok(Some(pb::ConsoleOutput {
                        output: Some(Output::Data(data)),
                    })) => self.seen.push_str(&String::from_utf8_lossy(&data)),
                    other => panic!("the console ended before {needle:?}: {other:?}"),
                }
            }
        })
        .await;
        assert!(
            read.is_ok(),
            "{needle:?} not read within {within:?}; read so far:\n{}",
            self.seen
        );
    }

    /// Reads to the end of the stream and returns the status it ended with.
    pub(super) async fn ended(mut self, within: Duration) -> Status {
        tokio::time::timeout(within, async {
            loop {
                match self.output.message().await {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("the console ended without a status"),
                    Err(status) => return status,
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the console did not end within {within:?}"))
    }
}

#[tokio::test]
async fn the_console_shows_the_boot_banner_and_answers_a_typed_command() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "console", false).await;
    // A small HTTP/2 window: a client that stops reading is felt within seconds.
    let channel = Endpoint::from_shared(format!("http://{}", app.addr))
        .expect("endpoint")
        .initial_stream_window_size(16 * 1024)
        .connect()
        .await
        .expect("connects");
    let mut console = Console::open_on(channel, &guest.name, "", false)
        .await
        .expect("opens");
    assert_eq!(console.opened.domain_name, guest.name);
    assert_eq!(console.opened.device, "serial0");

    // A reset boots the guest again with the console attached: its banner shows.
    app.domains
        .reset_domain(pb::ResetDomainRequest {
            domain: guest.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ResetDomain");
    console.read_until(READY_LINE, BOOT).await;

    // The arithmetic happens in the guest's shell: the answer is not an echo.
    console.type_line("").await;
    console.type_line("echo hi-$((6*7))").await;
    console.read_until("hi-42", ANSWER).await;

    // More output than the session buffers, while the client does not read: reads
    // pause and resume, and every line arrives, in order.
    console
        .type_line("seq 1 50000; echo seq-$((2*3))-done")
        .await;
    // The guest prints about 15 kB/s under TCG: in 12 s, more than the pipe, the
    // session and the 16 KiB window hold.
    tokio::time::sleep(Duration::from_secs(12)).await;
    console.read_until("seq-6-done", BOOT).await;
    let echoed = "seq-$((2*3))-done";
    // The shell may redraw a long command line: the output follows its last echo.
    let after_command = console.seen.rfind(echoed).expect("the command's echo") + echoed.len();
    let printed: Vec<u32> = console.seen[after_command..]
        .split("seq-6-done")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|token| token.parse().ok())
        .collect();
    assert_eq!(printed, (1..=50_000).collect::<Vec<u32>>());

    // The domain stops: the stream ends saying so.
    app.domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: guest.name.clone(),
            ..Default::default()
        })
        .await
        .expect("DestroyDomain");
    let status = console.ended(ANSWER).await;
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("stopped") && status.message().contains(&guest.name),
        "{}",
        status.message()
    );
    app.stop().await;
}

#[tokio::test]
async fn one_client_per_console_unless_force_takes_it_over() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "takeover", false).await;
    let first = Console::open(&app, &guest.name, "", false)
        .await
        .expect("opens");

    // Through the console's other name too: console0 mirrors serial0.
    for device in ["", "serial0"] {
        let refused = Console::open(&app, &guest.name, device, false)
            .await
            .err()
            .expect("held by the first client");
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(refused.message().contains("force"), "{}", refused.message());
    }

    let mut second = Console::open(&app, &guest.name, "", true)
        .await
        .expect("force takes it over");
    let status = first.ended(ANSWER).await;
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    assert!(
        status.message().contains("taken over"),
        "{}",
        status.message()
    );

    second.type_line("").await;
    second.type_line("echo over-$((40+2))").await;
    second.read_until("over-42", ANSWER).await;

    // A client that goes away lets the console go.
    drop(second);
    let mut third = None;
    for _ in 0..50 {
        match Console::open(&app, &guest.name, "", false).await {
            Ok(console) => {
                third = Some(console);
                break;
            }
            Err(status) if status.code() == Code::FailedPrecondition => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
    let third = third.expect("the console was not released by a closed client");

    // Only the first message opens: a second `open` ends the stream, saying why.
    third
        .input
        .send(pb::ConsoleInput {
            input: Some(Input::Open(pb::ConsoleOpen {
                domain: guest.name.clone(),
                ..Default::default()
            })),
        })
        .await
        .expect("queued");
    let status = third.ended(ANSWER).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("twice"), "{}", status.message());

    let unknown = Console::open(&app, &guest.name, "serial9", false)
        .await
        .err()
        .expect("no such device");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    assert!(
        unknown.message().contains("serial0"),
        "{}",
        unknown.message()
    );
    app.stop().await;
}

#[tokio::test]
async fn the_console_ends_when_the_libvirt_connection_drops() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "reconnect", false).await;
    let console = Console::open(&app, &guest.name, "", false)
        .await
        .expect("opens");
    daemon.disconnect_clients();
    let status = console.ended(ANSWER).await;
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("connection"),
        "{}",
        status.message()
    );
    // Once the service has reconnected, the console opens again.
    let mut reopened = None;
    for _ in 0..100 {
        match Console::open(&app, &guest.name, "", false).await {
            Ok(console) => {
                reopened = Some(console);
                break;
            }
            Err(status) if status.code() == Code::Unavailable => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
    let mut reopened = reopened.expect("the console opens after the reconnect");
    reopened.type_line("").await;
    reopened.type_line("echo back-$((2*21))").await;
    reopened.read_until("back-42", ANSWER).await;
    app.stop().await;
}

#[tokio::test]
async fn a_console_that_cannot_open_is_refused_saying_why() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    // A serial port that writes to a file is no terminal to attach to.
    let name = unique_name("file-serial");
    let log = daemon.dir().join(format!("{name}.serial.log"));
    let xml = qemu::bios_domain_xml(&name).replace(
        "<serial type='pty'/>",
        &format!(
            "<serial type='file'><source path='{}'/></serial>",
            log.display()
        ),
    );
    define(&mut app, xml).await;
    start(&mut app, &name).await;
    let refused = Console::open(&app, &name, "", false)
        .await
        .err()
        .expect("no pty");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("only a pty"),
        "{}",
        refused.message()
    );

    app.domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("DestroyDomain");
    let stopped = Console::open(&app, &name, "", false)
        .await
        .err()
        .expect("not running");
    assert_eq!(stopped.code(), Code::FailedPrecondition, "{stopped:?}");
    assert!(
        stopped.message().contains("not running"),
        "{}",
        stopped.message()
    );

    let unknown = Console::open(&app, "no-such-domain", "", false)
        .await
        .err()
        .expect("no domain");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    app.stop().await;
}

/// Bytes from base64 (standard alphabet, padded), as grpcurl prints `bytes` fields.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The README's grpcurl line: messages from stdin, output until `-max-time`.
#[tokio::test(flavor = "multi_thread")]
async fn grpcurl_types_into_the_console_as_the_readme_shows() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "grpcurl-console", false).await;
    let addr = app.addr.to_string();
    // "\necho hi-$((6*7))\n", base64 as JSON carries bytes.
    let input = format!(
        "{{\"open\": {{\"domain\": \"{}\"}}}}\n{{\"data\": \"CmVjaG8gaGktJCgoNio3KSkK\"}}\n",
        guest.name
    );
    let output = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new("grpcurl")
            .args(["-plaintext", "-d", "@", "-max-time", "15", &addr])
            .arg("virtplane.v1.ConsoleService/OpenConsole")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("grpcurl runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("input written");
        // It ends at -max-time: a console has no end of its own.
        child.wait_with_output().expect("grpcurl ends")
    })
    .await
    .expect("grpcurl");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"opened\""), "{stdout}");
    let typed_back: Vec<u8> = stdout
        .lines()
        .filter_map(|line| line.trim().strip_prefix("\"data\": \""))
        .flat_map(|rest| base64_decode(rest.trim_end_matches('"')))
        .collect();
    let text = String::from_utf8_lossy(&typed_back);
    assert!(text.contains("hi-42"), "{text}\n{stdout}");
    app.stop().await;
}
