//! The `virtplanectl` binary: the command-line client of a virtplane agent.

fn main() -> std::process::ExitCode {
    virtplane::cli::main()
}
