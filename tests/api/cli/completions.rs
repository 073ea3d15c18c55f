//! Shell completion scripts for bash, zsh and fish.

use std::process::Command;

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_virtplanectl"))
            .args(["completions", shell])
            .output()
            .expect("runs");

        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("virtplanectl"), "{shell}: {script}");
        assert!(script.contains("domains"), "{shell} completes the commands");
    }
}
