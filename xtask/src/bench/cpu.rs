//! How much CPU a run used, from /proc: how busy each core was, and how much of its core the
//! server and the load tool themselves took. The difference is anything else on the machine
//! (a build next door), and a load at 100% of its core beside a server below 100% of its own
//! says the load tool, not the server, was the bottleneck.
//!
//! Everything is in clock ticks (USER_HZ) on both sides of each division, so the tick rate
//! never needs to be known.

use super::{load::LOAD_CPU, server::SERVER_CPU};

/// CPU use over one run, each a share of one core (1.0 = the whole core).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CpuUse {
    /// The server process, all threads.
    pub(super) server: f64,
    /// The load tool (a waited-for child of xtask, so counted in our `cutime`/`cstime`).
    pub(super) load: f64,
    /// The server's core, busy with anything.
    pub(super) server_core: f64,
    /// The load's core, busy with anything.
    pub(super) load_core: f64,
}

/// Tick counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Snapshot {
    /// (busy, total) ticks of the server's core and of the load's core.
    cores: [(u64, u64); 2],
    /// utime + stime of the server.
    server: u64,
    /// cutime + cstime of xtask: its children that were waited for.
    children: u64,
}

impl Snapshot {
    /// Reads the counters now; `None` if /proc cannot be read (not Linux, or the server died).
    pub(super) fn take(server_pid: u32) -> Option<Snapshot> {
        let read = |path: String| std::fs::read_to_string(path).ok();
        let stat = read("/proc/stat".into())?;
        let cores = [core(&stat, SERVER_CPU)?, core(&stat, LOAD_CPU)?];
        let server = process(&read(format!("/proc/{server_pid}/stat"))?, 11)?;
        let children = process(&read("/proc/self/stat".into())?, 13)?;
        Some(Snapshot { cores, server, children })
    }

    /// The use between `before` and this snapshot.
    pub(super) fn since(&self, before: &Snapshot) -> CpuUse {
        let elapsed = |i: usize| self.cores[i].1.saturating_sub(before.cores[i].1);
        let share = |ticks: u64, of: u64| if of == 0 { 0.0 } else { ticks as f64 / of as f64 };
        let busy = |i: usize| share(self.cores[i].0.saturating_sub(before.cores[i].0), elapsed(i));
        CpuUse {
            server: share(self.server.saturating_sub(before.server), elapsed(0)),
            load: share(self.children.saturating_sub(before.children), elapsed(1)),
            server_core: busy(0),
            load_core: busy(1),
        }
    }
}

/// Ticks (utime + stime) process `pid` used so far.
pub(super) fn process_ticks(pid: u32) -> Option<u64> {
    process(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?, 11)
}

/// Ticks the servers' core counted so far (busy or not): the denominator of a server
/// process's share of its core.
pub(super) fn server_core_ticks() -> Option<u64> {
    core(&std::fs::read_to_string("/proc/stat").ok()?, SERVER_CPU).map(|(_, total)| total)
}

/// (busy, total) ticks of `cpuN` in /proc/stat.
fn core(stat: &str, n: &str) -> Option<(u64, u64)> {
    let name = format!("cpu{n}");
    let line = stat.lines().find(|l| l.split_whitespace().next() == Some(name.as_str()))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).map_while(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The sum of two adjacent tick fields of /proc/PID/stat, counted from the field after the
/// command name (`state` is 0, `utime` 11, `cutime` 13); the name may hold spaces and parens.
fn process(stat: &str, first: usize) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some(tick(first)? + tick(first + 1)?)
}

#[cfg(test)]
mod tests {
    use super::{Snapshot, core, process};

    #[test]
    fn shares_come_from_tick_deltas() {
        let stat0 = "cpu  1 2 3 4\ncpu0 100 0 0 100 0 0 0 0\ncpu1 0 0 0 200 0 0 0 0\n";
        let stat1 = "cpu  1 2 3 4\ncpu0 175 0 25 100 0 0 0 0\ncpu1 0 0 50 350 0 0 0 0\n";
        let snap = |stat: &str, server, children| Snapshot {
            cores: [core(stat, "0").unwrap(), core(stat, "1").unwrap()],
            server,
            children,
        };
        let used = snap(stat1, 90, 40).since(&snap(stat0, 10, 0));
        assert_eq!((used.server_core, used.load_core), (1.0, 0.25));
        assert_eq!((used.server, used.load), (0.8, 0.2));
        assert_eq!(core("cpu0 1 2 3 4\n", "1"), None);
    }

    #[test]
    fn process_ticks_skip_a_command_name_with_spaces() {
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 111 222 333 444 20 0";
        assert_eq!(process(stat, 11), Some(333));
        assert_eq!(process(stat, 13), Some(777));
        assert_eq!(process("garbage", 11), None);
    }
}
