//! The watchdog of the processes the tests start (servers, chromedriver with its
//! Chromium): a `sh` process that kills their process group and removes their directory
//! when its standard input reaches end of file, that is when the test process is gone,
//! however it went (a panic that does not unwind, a signal, a harness timeout).

use std::io;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A running watchdog; [`disarm`](Watchdog::disarm) it when the processes were stopped
/// in order.
pub(crate) struct Watchdog {
    pub(crate) child: Child,
    /// Held open for the watchdog; closing it (by exiting) fires it.
    pub(crate) _stdin: ChildStdin,
}

impl Watchdog {
    /// Watches the process group `group` and the directory `dir`; `name` is the
    /// watchdog's name in `ps`.
    pub(crate) fn spawn(name: &str, group: u32, dir: &Path) -> io::Result<Watchdog> {
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                // The pause lets the killed processes close their files.
                "trap '' INT TERM HUP; read line; kill -s KILL -- -\"$1\"; sleep 1; rm -rf -- \"$2\"",
                name,
            ])
            .arg(group.to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Not in the watched group: it outlives the kill it sends.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("watchdog without stdin"))?;
        Ok(Watchdog {
            child,
            _stdin: stdin,
        })
    }

    /// The processes were stopped in order: the watchdog goes without firing.
    pub(crate) fn disarm(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
