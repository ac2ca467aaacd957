//! A CPU hog for `cargo xtask bench --quick`: another process that keeps every core busy for
//! the whole run.
//!
//! `--quick` is the last step of `cargo xtask test`, and CI machines are shared: a server that
//! loses nothing only on a quiet machine makes CI flaky (issue 10: on a busy machine the server
//! cut subscribers that were reading as fast as they could as too slow). So the smoke run makes
//! the contention itself and must pass under it: one busy-looping thread per core, at normal
//! priority (not niced — the point is real contention with the server and the load tool), in a
//! separate process, so the scheduler treats it like any other program on the machine.
//!
//! The hog is this xtask binary run again as `xtask hog N` (a hidden command). It spins until
//! killed, or until its stdin closes: the parent holds the pipe, so a hog whose xtask died
//! without dropping the guard (SIGKILL) stops by itself instead of spinning forever. Full bench
//! runs never start it: their numbers need a quiet machine.

use std::{
    hint::black_box,
    io::Read as _,
    num::NonZeroUsize,
    process::{Child, Command, Stdio},
    thread,
};

use crate::sh::{Failed, Result};

/// The running hog; dropping it kills the process and waits for it.
pub(super) struct Hog {
    child: Child,
}

impl Hog {
    /// Starts `threads` busy threads in a new process (this binary, `hog THREADS`).
    pub(super) fn start(threads: NonZeroUsize) -> Result<Hog> {
        let exe = std::env::current_exe()
            .map_err(|e| Failed(format!("cannot find the xtask binary to run the CPU hog: {e}")))?;
        let child = Command::new(exe)
            .args(["hog", &threads.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| Failed(format!("cannot start the CPU hog: {e}")))?;
        Ok(Hog { child })
    }

    /// The hog's process id.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One busy thread per core this process may run on.
pub(super) fn threads_per_core() -> NonZeroUsize {
    thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The thread count `xtask hog [N]` asks for: N, or one per core.
fn threads(args: &[String]) -> Result<NonZeroUsize> {
    match args {
        [] => Ok(threads_per_core()),
        [n] => n
            .parse()
            .map_err(|_| Failed(format!("usage: xtask hog [THREADS], got {n:?} (a count ≥ 1)"))),
        _ => Err(Failed(format!("usage: xtask hog [THREADS], got {args:?}"))),
    }
}

/// `xtask hog [N]`: N threads (default: one per core) spin on arithmetic until the process is
/// killed or its stdin closes.
pub(crate) fn run(args: &[String]) -> Result {
    for _ in 0..threads(args)?.get() {
        thread::spawn(spin);
    }
    // Parked on stdin: end of file (or an error) means the parent is gone.
    let mut buf = [0u8; 64];
    while matches!(std::io::stdin().read(&mut buf), Ok(n) if n > 0) {}
    Ok(())
}

/// Busy arithmetic the optimiser cannot remove.
fn spin() {
    let mut x = 0u64;
    loop {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::{threads, threads_per_core};

    #[test]
    fn the_hog_takes_a_thread_count_or_one_per_core() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(threads(&args(&["3"])).unwrap().get(), 3);
        assert_eq!(threads(&args(&[])).unwrap(), threads_per_core());
        assert!(threads(&args(&["0"])).is_err());
        assert!(threads(&args(&["many"])).is_err());
        assert!(threads(&args(&["1", "2"])).is_err());
    }
}
