//! Running commands: each step is printed before it runs, and a failure names the step.

use std::{
    fmt,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

/// A step that failed.
#[derive(Debug)]
pub(crate) struct Failed(pub(crate) String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) type Result<T = ()> = std::result::Result<T, Failed>;

/// The workspace root (the parent of xtask/).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ always sits inside the workspace root")
        .to_path_buf()
}

/// Builds a command that runs in the workspace root.
pub(crate) fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(root());
    command
}

/// Runs `command`, printing it first and its duration after; fails if it exits non-zero.
pub(crate) fn step(mut command: Command) -> Result {
    let shown = show(&command);
    eprintln!("\n==> {shown}");
    let started = Instant::now();
    let status = command.status().map_err(|e| Failed(format!("could not start `{shown}`: {e}")))?;
    eprintln!("<== {shown} ({:.1}s, {status})", started.elapsed().as_secs_f64());
    if status.success() { Ok(()) } else { Err(Failed(format!("`{shown}` failed: {status}"))) }
}

/// Runs `command` quietly and returns its trimmed stdout, or `None` if it cannot run or fails.
pub(crate) fn output(mut command: Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Whether `program` can be run (found on PATH and answering `--version`).
pub(crate) fn has(program: &str) -> bool {
    output(cmd(program, &["--version"])).is_some()
}

fn show(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}
