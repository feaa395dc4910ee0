//! Real XMPP servers for integration tests.
//!
//! [`Server::start`] launches a throw-away ejabberd or prosody on `127.0.0.1`
//! with free ports, a private directory under [`std::env::temp_dir`] and a
//! configuration that allows the classic, version-less login: plaintext
//! streams (no TLS, no SASL required), `jabber:iq:auth` (XEP-0078) and
//! in-band registration (`jabber:iq:register`, XEP-0077). Dropping the
//! [`Server`] stops the process by its PID and removes the directory.
//!
//! Every instance has its own ports, directory and Erlang node name, so tests
//! may run servers in parallel threads. A small watchdog process (`sh`)
//! accompanies each server and kills it if the test process dies without
//! running `Drop` (a `SIGKILL`, an abort), so no server outlives its test run.
//!
//! The servers come from the Debian 12 packages `ejabberd` (23.01) and
//! `prosody` (0.12.3); `scripts/install-servers` installs them.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The virtual host both servers serve.
const DOMAIN: &str = "localhost";

/// How many times [`Server::start`] tries with fresh ports before giving up.
const START_ATTEMPTS: u32 = 3;

/// How long a stopping server may take after `SIGTERM` before it gets `SIGKILL`.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// How long an account-creation command may run.
const CTL_TIMEOUT: Duration = Duration::from_secs(30);

/// Which XMPP server to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// ejabberd (Erlang), started as a bare `erl` node.
    Ejabberd,
    /// prosody (Lua), started in the foreground.
    Prosody,
}

impl ServerKind {
    /// Both kinds, for tests that run against every server.
    pub const ALL: [ServerKind; 2] = [ServerKind::Ejabberd, ServerKind::Prosody];

    /// The server's name in lower case: `"ejabberd"` or `"prosody"`.
    pub fn name(&self) -> &'static str {
        match self {
            ServerKind::Ejabberd => "ejabberd",
            ServerKind::Prosody => "prosody",
        }
    }

    /// How long a start may take before it counts as failed.
    fn start_timeout(self) -> Duration {
        match self {
            ServerKind::Ejabberd => Duration::from_secs(40),
            ServerKind::Prosody => Duration::from_secs(15),
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A running XMPP server, stopped and cleaned up on drop.
///
/// The server listens for clients (`jabber:client`, plaintext) on
/// [`addr`](Server::addr) only, serves the domain [`domain`](Server::domain)
/// and lets anyone register in band. Its distribution port (ejabberd) is bound
/// to `127.0.0.1` as well; nothing else listens.
pub struct Server {
    kind: ServerKind,
    addr: SocketAddr,
    dir: PathBuf,
    /// `None` once the process has been reaped.
    child: Option<Child>,
    pid: u32,
    watchdog: Option<Watchdog>,
    /// The Erlang node to talk to for ejabberd's control commands.
    erlang: Option<ErlangNode>,
    config: PathBuf,
    log: PathBuf,
    console: PathBuf,
}

/// What a control node needs to reach a running ejabberd.
struct ErlangNode {
    name: String,
    cookie: String,
    dist_port: u16,
    erl_libs: PathBuf,
}

/// A `sh` process that kills the server's process group and removes its
/// directory when its standard input reaches end of file, that is when the
/// test process is gone.
struct Watchdog {
    child: Child,
    /// Held open for the watchdog; closing it (by exiting) fires it.
    _stdin: ChildStdin,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("kind", &self.kind)
            .field("addr", &self.addr)
            .field("pid", &self.pid)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a fresh server of `kind` and returns once it answers a stream
    /// header on its client port.
    ///
    /// The server gets free ports on `127.0.0.1` and its own directory. A
    /// start that fails (for example because another process took a port in
    /// the meantime) is retried with new ports; the error of the last try
    /// carries the tail of the server's log.
    pub fn start(kind: ServerKind) -> io::Result<Server> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(kind) {
                Ok(server) => return Ok(server),
                // Not installed: new ports will not help.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no start attempt")))
    }

    fn try_start(kind: ServerKind) -> io::Result<Server> {
        let dir = make_dir(kind)?;
        let port = free_port();
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        let console = dir.join("console.log");
        let prepared = match kind {
            ServerKind::Ejabberd => ejabberd_command(&dir, port),
            ServerKind::Prosody => prosody_command(&dir, port),
        }
        .and_then(|launch| Ok((launch, File::create(&console)?)));
        let ((config, log, erlang, mut command), out) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        clean_env(&mut command);
        command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        // Its own process group: Ctrl-C in a terminal does not reach it, and
        // one signal to the group reaches its helper processes too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                let program = command.get_program().to_string_lossy().into_owned();
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot run {program} for {kind} (see scripts/install-servers): {e}"),
                ));
            }
        };
        let pid = child.id();
        let mut server = Server {
            kind,
            addr,
            dir,
            child: Some(child),
            pid,
            watchdog: None,
            erlang,
            config,
            log,
            console,
        };
        server.watchdog = Watchdog::spawn(pid, &server.dir).ok();
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls until the server answers a stream header, has died, or has
    /// logged that it cannot listen.
    fn wait_ready(&mut self) -> io::Result<()> {
        let started = Instant::now();
        let deadline = started + self.kind.start_timeout();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .map(Child::try_wait)
                .transpose()?
                .flatten()
            {
                self.child = None;
                return Err(self.start_error(&format!("exited during start-up ({status})")));
            }
            if self.kind == ServerKind::Prosody
                && read_lossy(&self.log).contains("Failed to open server port")
            {
                return Err(self.start_error("could not open its port"));
            }
            if answers_stream(self.addr, DOMAIN) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.start_error(&format!(
                    "did not answer a stream header within {:?}",
                    started.elapsed()
                )));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn start_error(&self, what: &str) -> io::Error {
        io::Error::other(format!(
            "{} on {} {what}; log tail:\n{}",
            self.kind,
            self.addr,
            self.log_tail()
        ))
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The client listener: `127.0.0.1` and a port that was free.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The virtual host the server serves, to put in `to` of the stream
    /// header and in JIDs: `"localhost"`.
    pub fn domain(&self) -> &str {
        DOMAIN
    }

    /// The server process's id (also its process group's id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The server's private directory (configuration, data, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the account `user` on [`domain`](Server::domain) with
    /// `password`, out of band: through an Erlang control node for ejabberd,
    /// through `prosodyctl` for prosody. The code under test is not involved.
    ///
    /// Fails with [`io::ErrorKind::AlreadyExists`] if the account exists, on
    /// both servers.
    pub fn register(&self, user: &str, password: &str) -> io::Result<()> {
        let (mut command, stdin) = match &self.erlang {
            Some(node) => {
                let mut command = Command::new("erl");
                command
                    .env("ERL_LIBS", &node.erl_libs)
                    .env("HOME", &self.dir)
                    .arg("-sname")
                    .arg(format!("ctl{}@localhost", unique_suffix()))
                    .args(["-setcookie", &node.cookie])
                    .args(["-start_epmd", "false", "-dist_listen", "false"])
                    .args(["-erl_epmd_port", &node.dist_port.to_string()])
                    .args(["-hidden", "-noinput", "-s", "ejabberd_ctl", "-extra"])
                    .args([&node.name, "register", user, DOMAIN, password]);
                (command, None)
            }
            None => {
                // `adduser` (unlike `register`) refuses an existing account;
                // it reads the password twice from standard input.
                let mut command = Command::new("prosodyctl");
                command
                    .arg("--config")
                    .arg(&self.config)
                    .arg("adduser")
                    .arg(format!("{user}@{DOMAIN}"));
                (command, Some(format!("{password}\n{password}\n")))
            }
        };
        clean_env(&mut command);
        command.current_dir(&self.dir);
        let (status, output) = run_with_timeout(&mut command, stdin.as_deref(), &self.dir)?;
        if status.success() {
            return Ok(());
        }
        let kind = if output.contains("already registered") || output.contains("already exists") {
            io::ErrorKind::AlreadyExists
        } else {
            io::ErrorKind::Other
        };
        Err(io::Error::new(
            kind,
            format!(
                "{}: registering {user}@{DOMAIN} failed ({status}): {}",
                self.kind,
                output.trim()
            ),
        ))
    }

    /// Kills the server at once with `SIGKILL` (its whole process group) and
    /// reaps it: its sockets close as the kernel tears the process down.
    /// Does nothing if it is already gone.
    pub fn kill(&mut self) {
        self.disarm_watchdog();
        if let Some(mut child) = self.child.take() {
            signal_group(self.pid, "KILL");
            let _ = child.wait();
        }
    }

    /// Freezes the server with `SIGSTOP`: its sockets stay open but nothing
    /// is read or answered (a dead peer without a FIN).
    pub fn pause(&self) {
        if self.child.is_some() {
            signal_group(self.pid, "STOP");
        }
    }

    /// Lets a [`pause`](Server::pause)d server run again (`SIGCONT`).
    pub fn resume(&self) {
        if self.child.is_some() {
            signal_group(self.pid, "CONT");
        }
    }

    /// The last lines of the server's log and console output, for failure
    /// messages.
    pub fn log_tail(&self) -> String {
        let mut tail = String::new();
        for (name, path) in [("log", &self.log), ("console", &self.console)] {
            let text = read_lossy(path);
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(40);
            tail.push_str(&format!(
                "--- {} {name} ({}) ---\n",
                self.kind,
                path.display()
            ));
            for line in &lines[from..] {
                tail.push_str(line);
                tail.push('\n');
            }
        }
        tail
    }

    fn disarm_watchdog(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            // Killed before its standard input closes, so it never fires.
            let _ = watchdog.child.kill();
            let _ = watchdog.child.wait();
        }
    }

    /// `SIGTERM`, up to [`TERM_GRACE`] to exit, then `SIGKILL` for the group
    /// (while the exited leader is still a zombie, so its PID cannot have
    /// been reused), then reap.
    fn stop(&mut self) {
        self.disarm_watchdog();
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal_group(self.pid, "CONT");
        signal_pid(self.pid, "TERM");
        let deadline = Instant::now() + TERM_GRACE;
        while !has_exited(self.pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        signal_group(self.pid, "KILL");
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
        self.stop();
        if std::env::var_os("JABBER_TESTS_KEEP_DIRS").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Watchdog {
    fn spawn(pid: u32, dir: &Path) -> io::Result<Watchdog> {
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                // The pause lets the killed processes close their files.
                "trap '' INT TERM HUP; read line; kill -s KILL -- -\"$1\"; sleep 1; rm -rf -- \"$2\"",
                "jabber-tests-watchdog",
            ])
            .arg(pid.to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
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
}

/// Returns a TCP port on `127.0.0.1` that was free a moment ago and that this
/// process has not handed out before.
///
/// The port comes from the kernel (bind to port 0); remembering the ports
/// already given keeps parallel tests of one process from sharing one.
///
/// # Panics
///
/// If no port can be bound on `127.0.0.1`.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a port on 127.0.0.1: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("bound socket without address: {e}"))
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(PoisonError::into_inner);
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// A string unique to this process and call: PID and a counter.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn make_dir(kind: ServerKind) -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("jabber-tests-{}-{}", kind, unique_suffix()));
    if dir.exists() {
        // Left over by an earlier process with the same PID.
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

type Launch = (PathBuf, PathBuf, Option<ErlangNode>, Command);

/// ejabberd is started without `ejabberdctl`, which would switch to the
/// `ejabberd` user: a bare `erl` node with its distribution on a fixed
/// loopback port instead of epmd.
fn ejabberd_command(dir: &Path, port: u16) -> io::Result<Launch> {
    let erl_libs = ejabberd_libs()?;
    let config = dir.join("ejabberd.yml");
    let log = dir.join("ejabberd.log");
    let db = dir.join("db");
    fs::write(&config, ejabberd_config(port))?;
    let unique = unique_suffix();
    let node = ErlangNode {
        name: format!("jt{unique}@localhost"),
        cookie: format!("c{unique}x{:x}", nanos()),
        dist_port: free_port(),
        erl_libs,
    };
    let mut command = Command::new("erl");
    command
        .env("EJABBERD_CONFIG_PATH", &config)
        .env("EJABBERD_LOG_PATH", &log)
        .env("ERL_LIBS", &node.erl_libs)
        .env("HOME", dir)
        .env("CONTRIB_MODULES_PATH", dir.join("modules"))
        .env("ERL_CRASH_DUMP", dir.join("erl_crash.dump"))
        .args(["-sname", &node.name, "-setcookie", &node.cookie])
        .args(["-start_epmd", "false"])
        .args(["-erl_epmd_port", &node.dist_port.to_string()])
        .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
        .args(["-mnesia", "dir", &erlang_string(&db)])
        .args(["-noinput", "-s", "ejabberd"]);
    Ok((config, log, Some(node), command))
}

fn ejabberd_config(port: u16) -> String {
    format!(
        "\
loglevel: info
hosts:
  - {DOMAIN}
listen:
  -
    port: {port}
    ip: \"127.0.0.1\"
    module: ejabberd_c2s
    starttls: false
    access: c2s
auth_method: internal
# Plain storage: the iq:auth <digest> needs the clear password.
auth_password_format: plain
registration_timeout: infinity
s2s_access: s2s
acl:
  local:
    user_regexp: \"\"
access_rules:
  c2s:
    allow: all
  register:
    allow: all
  s2s:
    deny: all
  local:
    allow: local
api_permissions:
  \"console commands\":
    from:
      - ejabberd_ctl
    who: all
    what: \"*\"
modules:
  mod_legacy_auth: {{}}
  mod_register:
    access: register
    ip_access: all
    password_strength: 0
  mod_roster: {{}}
  mod_offline: {{}}
  mod_vcard: {{}}
  mod_private: {{}}
  # Short server-side idle timer: a client silent for 3 s is pinged and dropped if it
  # does not answer within 3 s; the idle scenarios must survive it.
  mod_ping:
    send_pings: true
    ping_interval: 3
    ping_ack_timeout: 3
    timeout_action: kill
  mod_disco: {{}}
  mod_muc: {{}}
"
    )
}

/// The folder holding `ejabberd-<version>/ebin/ejabberd.app`, for `ERL_LIBS`.
fn ejabberd_libs() -> io::Result<PathBuf> {
    let mut candidates = vec![PathBuf::from("/usr/lib/erlang/lib")];
    if let Ok(entries) = fs::read_dir("/usr/lib") {
        let mut multiarch: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("-linux-gnu"))
            .collect();
        multiarch.sort();
        candidates.extend(multiarch);
    }
    candidates.push(PathBuf::from("/usr/lib"));
    candidates.push(PathBuf::from("/usr/local/lib"));
    for dir in candidates {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("ejabberd-")
                && entry.path().join("ebin/ejabberd.app").is_file()
            {
                return Ok(dir);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "ejabberd is not installed (no ejabberd-*/ebin/ejabberd.app); run scripts/install-servers",
    ))
}

fn prosody_command(dir: &Path, port: u16) -> io::Result<Launch> {
    let config = dir.join("prosody.cfg.lua");
    let log = dir.join("prosody.log");
    fs::create_dir_all(dir.join("data"))?;
    // Certificates are looked for next to the configuration; an empty folder
    // keeps prosody from logging that it has none.
    fs::create_dir_all(dir.join("certs"))?;
    fs::write(&config, prosody_config(dir, &log, port))?;
    let mut command = Command::new("prosody");
    command.arg("-F").arg("--config").arg(&config);
    Ok((config, log, None, command))
}

fn prosody_config(dir: &Path, log: &Path, port: u16) -> String {
    let path = |p: &Path| lua_string(p);
    format!(
        "\
-- Throw-away prosody for jabber-tests: loopback only, plaintext, legacy auth.
run_as_root = true
daemonize = false
pidfile = {pidfile}
data_path = {data}
certificates = {certs}
plugin_paths = {{}}
log = {{ {{ levels = {{ min = \"debug\" }}, to = \"file\", filename = {log} }} }}
interfaces = {{ \"127.0.0.1\" }}
local_interfaces = {{ \"127.0.0.1\" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{}}
legacy_ssl_ports = {{}}
s2s_ports = {{}}
s2s_direct_tls_ports = {{}}
component_ports = {{}}
http_ports = {{}}
https_ports = {{}}
-- Short server-side idle timer: after 3 s without reading from a client, prosody
-- runs its read-timeout handler (a keepalive); the idle scenarios must survive it.
network_settings = {{ read_timeout = 3 }}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
-- Not internal_plain: with it, 0.12.3 crashes on a legacy login of an
-- unknown user and never answers. (Its legacyauth has no <digest> anyway.)
authentication = \"internal_hashed\"
storage = \"internal\"
allow_registration = true
modules_enabled = {{ \"legacyauth\", \"register\", \"roster\", \"private\", \"vcard\", \"ping\", \"disco\" }}
modules_disabled = {{ \"s2s\", \"s2s_auth_certs\" }}
VirtualHost \"{DOMAIN}\"
",
        pidfile = path(&dir.join("prosody.pid")),
        data = path(&dir.join("data")),
        certs = path(&dir.join("certs")),
        log = path(log),
    )
}

/// `path` as a double-quoted Lua string.
fn lua_string(path: &Path) -> String {
    quoted(path)
}

/// `path` as an Erlang string term (for `-mnesia dir`).
fn erlang_string(path: &Path) -> String {
    quoted(path)
}

/// Both Lua and Erlang read `"..."` with backslash escapes alike.
fn quoted(path: &Path) -> String {
    let mut out = String::from('"');
    for c in path.to_string_lossy().chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Drops variables of the caller's environment that would change how `erl`
/// or prosody start.
fn clean_env(command: &mut Command) {
    for var in [
        "ERL_FLAGS",
        "ERL_AFLAGS",
        "ERL_ZFLAGS",
        "ERL_EPMD_ADDRESS",
        "ERL_EPMD_PORT",
        "ERL_INETRC",
        "PROSODY_CONFIG",
    ] {
        command.env_remove(var);
    }
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Sends a stream header and reports whether a `<stream:stream` came back.
fn answers_stream(addr: SocketAddr, domain: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let header = format!(
        "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>"
    );
    if stream
        .set_read_timeout(Some(Duration::from_millis(1000)))
        .and_then(|()| stream.write_all(header.as_bytes()))
        .is_err()
    {
        return false;
    }
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let ok = loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break false,
            Ok(n) => {
                received.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&received).contains("<stream:stream") {
                    break true;
                }
            }
        }
    };
    let _ = stream.write_all(b"</stream:stream>");
    ok
}

/// Runs `command` to completion with its output in a file of `dir`, feeding
/// `stdin` if given; kills it after [`CTL_TIMEOUT`].
fn run_with_timeout(
    command: &mut Command,
    stdin: Option<&str>,
    dir: &Path,
) -> io::Result<(ExitStatus, String)> {
    let path = dir.join(format!("ctl-{}.out", unique_suffix()));
    let out = File::create(&path)?;
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out.try_clone()?)
        .stderr(out);
    let mut child = command.spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A write error means the command exited early; its status tells why.
        let _ = pipe.write_all(text.as_bytes());
    }
    let deadline = Instant::now() + CTL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = fs::remove_file(&path);
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{command:?} did not finish within {CTL_TIMEOUT:?}"),
            ));
        }
        thread::sleep(Duration::from_millis(10));
    };
    let output = read_lossy(&path);
    let _ = fs::remove_file(&path);
    Ok((status, output))
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// Whether `pid` has exited (is a zombie or gone), without reaping it.
fn has_exited(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // The state follows the command name, which is in parentheses.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    matches!(state, Some("Z" | "X") | None)
}

/// Sends `signal` (a name such as `"TERM"`) to the process `pid`.
fn signal_pid(pid: u32, signal: &str) {
    run_kill(signal, &pid.to_string());
}

/// Sends `signal` to the process group `pid` (the server and its helpers).
fn signal_group(pid: u32, signal: &str) {
    run_kill(signal, &format!("-{pid}"));
}

fn run_kill(signal: &str, target: &str) {
    let _ = Command::new("kill")
        .args(["-s", signal, "--", target])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
