//! `virtplanectl console` against the busybox guest: a command typed on stdin, the
//! guest's answer on stdout, and Ctrl-] leaving with exit code 0.

use std::time::Duration;

use super::guest::{app_on, busybox};
use crate::support::{CtlChild, qemu::QemuDaemon};

#[tokio::test(flavor = "multi_thread")]
async fn virtplanectl_types_into_the_console_and_ctrl_close_bracket_leaves() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let guest = busybox(&mut app, &daemon, "cli-console", false).await;
    let addr = format!("http://{}", app.addr);
    let mut console = CtlChild::spawn_interactive(&["--addr", &addr, "console", &guest.name]);

    // The arithmetic happens in the guest's shell: the answer is not an echo.
    console.type_text("\necho hi-$((6*7))\n");
    console.lines_until("hi-42", Duration::from_secs(60)).await;
    console.type_text("\x1d\n");
    let code = console.exit_code(Duration::from_secs(10)).await;

    assert_eq!(code, Some(0), "Ctrl-] then Enter leaves the console");
    app.stop().await;
}
