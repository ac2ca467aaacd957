//! The `enchufe` binary: everything is in the library's [`enchufe::cli`].

fn main() -> std::process::ExitCode {
    enchufe::cli::main()
}
