//! The `keyway` binary: everything lives in the library; this only dispatches.

fn main() -> std::process::ExitCode {
    keyway_server::cli::main()
}
