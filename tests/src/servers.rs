//! Real XMPP servers for integration tests.
//!
//! [`Server::start`] launches a throw-away ejabberd or prosody on `127.0.0.1`
//! with free ports, a private directory under [`std::env::temp_dir`] and a
//! configuration that allows the classic, version-less login: plaintext
//! streams (no TLS, no SASL required), `jabber:iq:auth` (XEP-0078) and
//! in-band registration (`jabber:iq:register`, XEP-0077). Dropping the
//! [`Server`] stops the process by its PID and removes the directory.
//!
//! Besides the plaintext listener ([`Server::addr`]) each server has a
//! direct-TLS listener ([`Server::tls_addr`], the old port-5223 style that
//! XEP-0368 revived: TLS from the first byte, then the same version-less
//! stream). Its certificate comes from the process's throw-away
//! [`TestCa`]; a client that trusts that CA and asks for
//! [`Server::domain`] verifies it.
//!
//! [`Server::start_with`] picks how passwords are stored
//! ([`PasswordStorage`]): in the clear, which ejabberd needs to check a
//! `jabber:iq:auth` digest, or as SCRAM keys.
//!
//! For scale tests, [`Server::register_many`] creates a thousand accounts in
//! about a second, and both servers are set up for a thousand and more
//! concurrent sessions from loopback (no traffic shaper, a long listen
//! backlog, the open-files limit raised as far as the hard limit allows).
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
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::certs::{ServerFiles, TestCa};
use crate::watchdog::Watchdog;
use crate::ws_listeners::WebSocketPorts;

/// The virtual host both servers serve.
pub(crate) const DOMAIN: &str = "localhost";

/// How many times [`Server::start`] tries with fresh ports before giving up.
const START_ATTEMPTS: u32 = 3;

/// How long a stopping server may take after `SIGTERM` before it gets `SIGKILL`.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// How long an account-creation command may run.
const CTL_TIMEOUT: Duration = Duration::from_secs(30);

/// The open-files limit the servers are started with (or the hard limit, if
/// that is lower): a session is one descriptor.
const OPEN_FILES: u32 = 65536;

/// The listen backlog of every client listener: a thousand clients that
/// connect at once must not find the queue full (ejabberd's default is 5).
const LISTEN_BACKLOG: u32 = 1024;

/// PBKDF2 rounds of the SCRAM-SHA-1 records [`Server::register_many`] writes
/// for prosody: the RFC 7677 minimum, cheaper than prosody's own 10,000 for
/// every login of a scale test.
const PROSODY_BULK_ITERATIONS: u32 = 4096;

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

/// How a server keeps the accounts' passwords, which decides whether it can check
/// a `jabber:iq:auth` `<digest>` (that needs the clear password).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PasswordStorage {
    /// The clear password: ejabberd `auth_password_format: plain`, prosody
    /// `internal_plain`.
    Plain,
    /// Only SCRAM-SHA-1 keys: ejabberd `auth_password_format: scram`, prosody
    /// `internal_hashed`.
    Hashed,
}

impl PasswordStorage {
    /// What [`Server::start`] uses for `kind`: plain for ejabberd (so it
    /// checks digests), hashed for prosody (its `internal_plain` crashes on a
    /// legacy login of an unknown user and never answers, 0.12.3).
    pub fn default_for(kind: ServerKind) -> PasswordStorage {
        match kind {
            ServerKind::Ejabberd => PasswordStorage::Plain,
            ServerKind::Prosody => PasswordStorage::Hashed,
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
/// The server listens for clients (`jabber:client`) on
/// [`addr`](Server::addr) (plaintext) and [`tls_addr`](Server::tls_addr)
/// (direct TLS) only, serves the domain [`domain`](Server::domain) and lets
/// anyone register in band. Its distribution port (ejabberd) is bound to
/// `127.0.0.1` as well; nothing else listens.
pub struct Server {
    kind: ServerKind,
    storage: PasswordStorage,
    addr: SocketAddr,
    tls_addr: SocketAddr,
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
    /// What it was started for ([`restart`](Server::restart) starts it the same way).
    tuning: Tuning,
    /// The HTTP upload listener, when started with [`Server::start_with_upload`].
    upload_http: Option<SocketAddr>,
    /// The WebSocket listeners, when started with [`Server::start_websocket`].
    websocket: Option<WebSocketPorts>,
}

/// What a control node needs to reach a running ejabberd.
struct ErlangNode {
    name: String,
    cookie: String,
    dist_port: u16,
    erl_libs: PathBuf,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("kind", &self.kind)
            .field("storage", &self.storage)
            .field("addr", &self.addr)
            .field("tls_addr", &self.tls_addr)
            .field("pid", &self.pid)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a fresh server of `kind` and returns once it answers a stream
    /// header on its plaintext client port and accepts connections on its
    /// direct-TLS port.
    ///
    /// The server gets free ports on `127.0.0.1` and its own directory. A
    /// start that fails (for example because another process took a port in
    /// the meantime) is retried with new ports; the error of the last try
    /// carries the tail of the server's log.
    pub fn start(kind: ServerKind) -> io::Result<Server> {
        Self::start_with(kind, PasswordStorage::default_for(kind))
    }

    /// Like [`start`](Server::start), with the passwords kept as `storage`
    /// says. [`register_many`](Server::register_many) on a prosody with
    /// [`PasswordStorage::Plain`] fails with [`io::ErrorKind::Unsupported`].
    pub fn start_with(kind: ServerKind, storage: PasswordStorage) -> io::Result<Server> {
        Self::start_tuned(kind, storage, Tuning::Tests)
    }

    /// Like [`start`](Server::start), set up for ten thousand and more busy sessions
    /// (the scale benchmark): ejabberd sends no pings of its own (`mod_ping`
    /// answers them only; with pings on, its one `mod_ping` process handles a timer
    /// reset for every stanza and falls behind), its overload killer is off (it
    /// kills sessions when 10,000 of them have a few messages queued at once), and
    /// its caches hold every account (privacy lists are read once per login).
    /// Prosody starts as with [`start`](Server::start).
    pub fn start_for_scale(kind: ServerKind) -> io::Result<Server> {
        Self::start_tuned(kind, PasswordStorage::default_for(kind), Tuning::Scale)
    }

    /// Like [`start`](Server::start), with HTTP File Upload (XEP-0363) on one more
    /// port of `127.0.0.1` (see [`http_upload`](crate::http_upload)):
    /// [`upload_addr`](Server::upload_addr).
    pub fn start_with_upload(kind: ServerKind) -> io::Result<Server> {
        Self::start_tuned(
            kind,
            PasswordStorage::default_for(kind),
            Tuning::Upload { http_port: 0 },
        )
    }

    /// The HTTPS listener of the upload service, when started with
    /// [`start_with_upload`](Server::start_with_upload).
    pub fn upload_addr(&self) -> Option<SocketAddr> {
        self.upload_http
    }

    /// Like [`start`](Server::start), with WebSocket listeners (RFC 7395) on two more
    /// free ports of `127.0.0.1`, plain and TLS (see [`crate::ws_listeners`]); returns
    /// once both accept connections.
    pub fn start_websocket(kind: ServerKind) -> io::Result<Server> {
        let ports = WebSocketPorts::free();
        let storage = PasswordStorage::default_for(kind);
        let server = Self::start_tuned(kind, storage, Tuning::WebSocket(ports))?;
        let deadline = Instant::now() + kind.start_timeout();
        for port in [ports.ws, ports.wss] {
            let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
            while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
                if Instant::now() >= deadline {
                    return Err(server.start_error(&format!("did not listen on {addr}")));
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(server)
    }

    /// The WebSocket endpoint's URL (`wss:` when `tls`), with the host `127.0.0.1`,
    /// when started with [`start_websocket`](Server::start_websocket).
    pub fn websocket_url(&self, tls: bool) -> Option<String> {
        let ports = self.websocket?;
        let (scheme, port) = if tls {
            ("wss", ports.wss)
        } else {
            ("ws", ports.ws)
        };
        let path = crate::ws_listeners::path(self.kind);
        Some(format!("{scheme}://127.0.0.1:{port}{path}"))
    }

    /// The WebSocket listeners' ports, when started with
    /// [`start_websocket`](Server::start_websocket).
    pub fn websocket_ports(&self) -> Option<WebSocketPorts> {
        self.websocket
    }

    fn start_tuned(
        kind: ServerKind,
        storage: PasswordStorage,
        tuning: Tuning,
    ) -> io::Result<Server> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(kind, storage, tuning) {
                Ok(server) => return Ok(server),
                // Not installed: new ports will not help.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no start attempt")))
    }

    fn try_start(kind: ServerKind, storage: PasswordStorage, tuning: Tuning) -> io::Result<Server> {
        // Each attempt a new HTTP port, like the client ports.
        let tuning = match tuning {
            Tuning::Upload { .. } => Tuning::Upload {
                http_port: free_port(),
            },
            other => other,
        };
        let dir = make_dir(kind)?;
        let port = free_port();
        let tls_port = free_port();
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        let tls_addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, tls_port));
        let console = dir.join("console.log");
        let prepared = TestCa::get()
            .write_server_files(&dir.join("tls"))
            .and_then(|tls| match kind {
                ServerKind::Ejabberd => {
                    ejabberd_command(&dir, port, tls_port, &tls, storage, tuning)
                }
                ServerKind::Prosody => prosody_command(&dir, port, tls_port, &tls, storage),
            })
            .and_then(|launch| Ok((launch, File::create(&console)?)));
        let ((config, log, erlang, mut command), out) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        if let Tuning::Upload { http_port } = tuning {
            if let Err(e) = crate::http_upload::add_to_config(kind, &config, http_port) {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        }
        if let Some(ports) = tuning.websocket() {
            if let Err(e) = crate::ws_listeners::add(kind, &config, ports) {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        }
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
                // The program itself runs under a `sh` that raises limits.
                let program = command.get_program().to_string_lossy().into_owned();
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "cannot run {program} to start {kind} (see scripts/install-servers): {e}"
                    ),
                ));
            }
        };
        let pid = child.id();
        let mut server = Server {
            kind,
            storage,
            addr,
            tls_addr,
            dir,
            child: Some(child),
            pid,
            watchdog: None,
            erlang,
            config,
            log,
            console,
            tuning,
            upload_http: None,
            websocket: tuning.websocket(),
        };
        server.watchdog = Watchdog::spawn("jabber-tests-watchdog", pid, &server.dir).ok();
        server.wait_ready()?;
        if let Tuning::Upload { http_port } = tuning {
            server.upload_http = Some(SocketAddr::from((Ipv4Addr::LOCALHOST, http_port)));
            crate::http_upload::wait_listening(http_port, kind.start_timeout())
                .map_err(|e| server.start_error(&e.to_string()))?;
        }
        Ok(server)
    }

    /// Polls until the server answers a stream header on the plaintext port
    /// and accepts a connection on the TLS port, has died, or has logged that
    /// it cannot listen.
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
            if self.kind == ServerKind::Prosody
                && read_lossy(&self.log).contains("Error binding encrypted port")
            {
                return Err(self.start_error("could not set up its TLS port"));
            }
            // Both listeners start together; the TLS one is asked second, so
            // that it is ready too.
            if answers_stream(self.addr, DOMAIN)
                && TcpStream::connect_timeout(&self.tls_addr, Duration::from_millis(500)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.start_error(&format!(
                    "did not answer a stream header on {} and accept on {} within {:?}",
                    self.addr,
                    self.tls_addr,
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

    /// How this server keeps passwords.
    pub fn storage(&self) -> PasswordStorage {
        self.storage
    }

    /// The plaintext client listener: `127.0.0.1` and a port that was free.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The direct-TLS client listener: `127.0.0.1` and another port that
    /// was free.
    ///
    /// TLS starts with the first byte (no STARTTLS); inside it the server
    /// speaks the same `jabber:client` streams as on [`addr`](Server::addr).
    /// Its certificate, for [`domain`](Server::domain) and `localhost`, is
    /// signed by [`TestCa::get`]; a client must trust that CA and send the
    /// domain as SNI.
    pub fn tls_addr(&self) -> SocketAddr {
        self.tls_addr
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
                let mut command = self.control_node(node);
                command
                    .args(["-s", "ejabberd_ctl", "-extra"])
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
        let (status, output) =
            run_with_timeout(&mut command, stdin.as_deref(), &self.dir, CTL_TIMEOUT)?;
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

    /// Creates the accounts `{prefix}0` to `{prefix}{count - 1}` on
    /// [`domain`](Server::domain), all with `password`, out of band and fast
    /// (a thousand take about a second): for scale tests.
    ///
    /// - ejabberd: one Erlang control node calls
    ///   `ejabberd_auth:try_register/3` on the server for each account.
    /// - prosody: the accounts are written straight into its file store
    ///   (`data/<host>/accounts/<user>.dat`), each with the SCRAM-SHA-1 record
    ///   prosody's `internal_hashed` keeps (one salt for the whole batch,
    ///   4,096 rounds); prosody reads the store on every login, so they work
    ///   at once. `prosodyctl` would take half a second per account.
    ///
    /// `prefix` may hold ASCII lower-case letters, digits, `.`, `_` and `-`
    /// (names both servers keep as they are); `password`, printable ASCII.
    /// Anything else fails with [`io::ErrorKind::InvalidInput`] before an
    /// account is made. An account that exists already stops the batch with
    /// [`io::ErrorKind::AlreadyExists`], the ones before it staying created.
    pub fn register_many(&self, prefix: &str, count: usize, password: &str) -> io::Result<()> {
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("account prefix {prefix:?}: only a-z, 0-9, '.', '_' and '-'"),
            ));
        }
        if password.is_empty() || !password.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the password must be non-empty printable ASCII",
            ));
        }
        if count == 0 {
            return Ok(());
        }
        match &self.erlang {
            Some(node) => self.register_many_ejabberd(node, prefix, count, password),
            None if self.storage == PasswordStorage::Plain => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "prosody with internal_plain: bulk accounts are written as SCRAM records",
            )),
            None => self.register_many_prosody(prefix, count, password),
        }
    }

    /// Creates the accounts `users` on [`domain`](Server::domain), all with
    /// `password`, out of band and fast like
    /// [`register_many`](Self::register_many) (one Erlang control node for all
    /// of them on ejabberd, records written into the store on prosody), with
    /// its rules for names and passwords.
    pub fn register_each(&self, users: &[String], password: &str) -> io::Result<()> {
        let bad = users.iter().find(|u| {
            u.is_empty()
                || !u
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
        if let Some(bad) = bad {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("account {bad:?}: only a-z, 0-9, '.', '_' and '-'"),
            ));
        }
        if password.is_empty() || !password.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the password must be non-empty printable ASCII",
            ));
        }
        match &self.erlang {
            Some(node) => self.register_each_ejabberd(node, users, password),
            None if self.storage == PasswordStorage::Plain => users
                .iter()
                .try_for_each(|user| self.register(user, password)),
            None => self.write_prosody_accounts(users.iter().cloned(), password),
        }
    }

    fn register_each_ejabberd(
        &self,
        node: &ErlangNode,
        users: &[String],
        password: &str,
    ) -> io::Result<()> {
        // Exit status 3: an account exists; 1: any other failure.
        const REGISTER_EACH: &str = "\
            [NodeS, HostS, PassS | Users] = init:get_plain_arguments(),
            Node = list_to_atom(NodeS),
            Host = unicode:characters_to_binary(HostS),
            Pass = unicode:characters_to_binary(PassS),
            Loop = fun L([]) -> ok;
                       L([U | Rest]) ->
                           User = unicode:characters_to_binary(U),
                           case rpc:call(Node, ejabberd_auth, try_register, [User, Host, Pass], 30000) of
                               ok -> L(Rest);
                               Other -> {User, Other}
                           end
                   end,
            case Loop(Users) of
                ok -> halt(0);
                {U, {error, exists}} -> io:format(\"~ts: already registered~n\", [U]), halt(3);
                {U, R} -> io:format(\"~ts: ~p~n\", [U, R]), halt(1)
            end.";
        let mut command = self.control_node(node);
        command
            .args(["-eval", REGISTER_EACH, "-extra"])
            .args([&node.name, DOMAIN, password])
            .args(users);
        clean_env(&mut command);
        command.current_dir(&self.dir);
        let timeout = CTL_TIMEOUT
            + Duration::from_millis(20) * u32::try_from(users.len()).unwrap_or(u32::MAX);
        let (status, output) = run_with_timeout(&mut command, None, &self.dir, timeout)?;
        if status.success() {
            return Ok(());
        }
        let kind = if status.code() == Some(3) {
            io::ErrorKind::AlreadyExists
        } else {
            io::ErrorKind::Other
        };
        Err(io::Error::new(
            kind,
            format!(
                "ejabberd: registering {users:?} failed ({status}): {}",
                output.trim()
            ),
        ))
    }

    fn register_many_ejabberd(
        &self,
        node: &ErlangNode,
        prefix: &str,
        count: usize,
        password: &str,
    ) -> io::Result<()> {
        // Exit status 3: an account exists; 1: any other failure.
        const REGISTER_LOOP: &str = "\
            [NodeS, HostS, Prefix, CountS, PassS] = init:get_plain_arguments(),
            Node = list_to_atom(NodeS),
            Host = unicode:characters_to_binary(HostS),
            Pass = unicode:characters_to_binary(PassS),
            Count = list_to_integer(CountS),
            Loop = fun L(I) when I >= Count -> ok;
                       L(I) ->
                           User = unicode:characters_to_binary(Prefix ++ integer_to_list(I)),
                           case rpc:call(Node, ejabberd_auth, try_register, [User, Host, Pass], 30000) of
                               ok -> L(I + 1);
                               Other -> {User, Other}
                           end
                   end,
            case Loop(0) of
                ok -> halt(0);
                {U, {error, exists}} -> io:format(\"~ts: already registered~n\", [U]), halt(3);
                {U, R} -> io:format(\"~ts: ~p~n\", [U, R]), halt(1)
            end.";
        let mut command = self.control_node(node);
        command.args(["-eval", REGISTER_LOOP, "-extra"]).args([
            &node.name,
            DOMAIN,
            prefix,
            &count.to_string(),
            password,
        ]);
        clean_env(&mut command);
        command.current_dir(&self.dir);
        let timeout =
            CTL_TIMEOUT + Duration::from_millis(20) * u32::try_from(count).unwrap_or(u32::MAX);
        let (status, output) = run_with_timeout(&mut command, None, &self.dir, timeout)?;
        if status.success() {
            return Ok(());
        }
        let kind = if status.code() == Some(3) {
            io::ErrorKind::AlreadyExists
        } else {
            io::ErrorKind::Other
        };
        Err(io::Error::new(
            kind,
            format!(
                "ejabberd: registering {prefix}0..{prefix}{} failed ({status}): {}",
                count - 1,
                output.trim()
            ),
        ))
    }

    fn register_many_prosody(&self, prefix: &str, count: usize, password: &str) -> io::Result<()> {
        self.write_prosody_accounts((0..count).map(|i| format!("{prefix}{i}")), password)
    }

    /// Writes each of `users` into prosody's file store as a SCRAM-SHA-1 record (see
    /// [`register_many`](Self::register_many)).
    fn write_prosody_accounts(
        &self,
        users: impl Iterator<Item = String>,
        password: &str,
    ) -> io::Result<()> {
        let record = scram_sha1_record(password, PROSODY_BULK_ITERATIONS)?;
        let accounts = self
            .dir
            .join("data")
            .join(prosody_path_encode(DOMAIN))
            .join("accounts");
        fs::create_dir_all(&accounts)?;
        let scratch = accounts.join(format!(".jabber-tests-{}.tmp", unique_suffix()));
        let mut users = users;
        let result = users.try_for_each(|user| {
            let path = accounts.join(format!("{}.dat", prosody_path_encode(&user)));
            // Each account its own file (no shared inode), written aside and
            // then linked into place: it appears whole or not at all, and
            // never replaces an existing account.
            fs::write(&scratch, &record)
                .and_then(|()| fs::hard_link(&scratch, &path))
                .map_err(|e| {
                    let kind = e.kind();
                    let what = if kind == io::ErrorKind::AlreadyExists {
                        "already registered".to_owned()
                    } else {
                        e.to_string()
                    };
                    io::Error::new(kind, format!("prosody: {user}@{DOMAIN}: {what}"))
                })?;
            fs::remove_file(&scratch)
        });
        let _ = fs::remove_file(&scratch);
        result
    }

    /// An `erl` command for a hidden node that talks to the running ejabberd
    /// through its distribution port; the caller adds what it runs.
    fn control_node(&self, node: &ErlangNode) -> Command {
        let mut command = Command::new("erl");
        command
            .env("ERL_LIBS", &node.erl_libs)
            .env("HOME", &self.dir)
            .arg("-sname")
            .arg(format!("ctl{}@localhost", unique_suffix()))
            .args(["-setcookie", &node.cookie])
            .args(["-start_epmd", "false", "-dist_listen", "false"])
            .args(["-erl_epmd_port", &node.dist_port.to_string()])
            .args(["-hidden", "-noinput"]);
        command
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
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.disarm();
        }
    }

    /// Stops the server (as on drop) and starts the same instance again: the same
    /// ports, directory, accounts and stored data (ejabberd keeps its Erlang node name,
    /// which its database is tied to). Clients' connections end with the stop; what
    /// only lived in memory (sessions, non-persistent rooms) is gone. Returns once the
    /// server answers again, like [`start`](Server::start).
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let tls = TestCa::get().write_server_files(&self.dir.join("tls"))?;
        let (port, tls_port) = (self.addr.port(), self.tls_addr.port());
        let mut command = match &self.erlang {
            Some(node) => {
                fs::write(
                    &self.config,
                    ejabberd_config(port, tls_port, &tls, self.storage, self.tuning),
                )?;
                ejabberd_restart_command(&self.dir, &self.config, &self.log, node)?
            }
            None => prosody_command(&self.dir, port, tls_port, &tls, self.storage)?.3,
        };
        let out = fs::OpenOptions::new().append(true).open(&self.console)?;
        clean_env(&mut command);
        command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn()?;
        self.pid = child.id();
        self.child = Some(child);
        self.watchdog = Watchdog::spawn("jabber-tests-watchdog", self.pid, &self.dir).ok();
        self.wait_ready()
    }

    /// ejabberd only: kills the process of the chat room `room` on `service` (as a
    /// crash or a restart of the room would), so that the room, persistent, comes back
    /// on the next stanza without its occupants — who are not told. For the tests of
    /// XEP-0410 self-ping. Fails with [`io::ErrorKind::Unsupported`] on prosody and
    /// [`io::ErrorKind::NotFound`] when the room is not running.
    pub fn kill_room(&self, room: &str, service: &str) -> io::Result<()> {
        const KILL_ROOM: &str = "\
            [NodeS, Room, Service] = init:get_plain_arguments(),
            Node = list_to_atom(NodeS),
            Args = [unicode:characters_to_binary(Room), unicode:characters_to_binary(Service)],
            case rpc:call(Node, mod_muc, find_online_room, Args, 30000) of
                {ok, Pid} -> rpc:call(Node, erlang, exit, [Pid, kill]), halt(0);
                Other -> io:format(\"~p~n\", [Other]), halt(3)
            end.";
        let Some(node) = &self.erlang else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "only ejabberd's rooms can be killed",
            ));
        };
        let mut command = self.control_node(node);
        command
            .args(["-eval", KILL_ROOM, "-extra"])
            .args([node.name.as_str(), room, service]);
        clean_env(&mut command);
        command.current_dir(&self.dir);
        let (status, output) = run_with_timeout(&mut command, None, &self.dir, CTL_TIMEOUT)?;
        match status.code() {
            Some(0) => Ok(()),
            Some(3) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("room {room}@{service} is not running: {}", output.trim()),
            )),
            _ => Err(io::Error::other(format!(
                "killing room {room}@{service} failed ({status}): {}",
                output.trim()
            ))),
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

/// What a server is set up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tuning {
    /// The integration tests: short server-side idle timers, default limits.
    Tests,
    /// [`Server::start_for_scale`].
    Scale,
    /// [`Server::start_with_upload`]: the tests' setup plus HTTP upload on `http_port`.
    Upload { http_port: u16 },
    /// [`Server::start_websocket`]: the tests' settings, plus WebSocket listeners.
    WebSocket(WebSocketPorts),
}

impl Tuning {
    fn websocket(self) -> Option<WebSocketPorts> {
        match self {
            Tuning::WebSocket(ports) => Some(ports),
            Tuning::Tests | Tuning::Scale | Tuning::Upload { .. } => None,
        }
    }
}

/// ejabberd is started without `ejabberdctl`, which would switch to the
/// `ejabberd` user: a bare `erl` node with its distribution on a fixed
/// loopback port instead of epmd.
fn ejabberd_command(
    dir: &Path,
    port: u16,
    tls_port: u16,
    tls: &ServerFiles,
    storage: PasswordStorage,
    tuning: Tuning,
) -> io::Result<Launch> {
    let erl_libs = ejabberd_libs()?;
    let erl = find_program("erl")?;
    let config = dir.join("ejabberd.yml");
    let log = dir.join("ejabberd.log");
    let db = dir.join("db");
    fs::write(
        &config,
        ejabberd_config(port, tls_port, tls, storage, tuning),
    )?;
    let unique = unique_suffix();
    let node = ErlangNode {
        name: format!("jt{unique}@localhost"),
        cookie: format!("c{unique}x{:x}", nanos()),
        dist_port: free_port(),
        erl_libs,
    };
    let mut command = with_open_files_limit(&erl);
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
        // Room for many sessions: processes (several per session) and ports
        // (one per socket).
        .args(["+P", "1048576", "+Q", "65536"])
        .args(["-noinput", "-s", "ejabberd"]);
    Ok((config, log, Some(node), command))
}

/// The command that starts ejabberd again on `node` (its name, cookie and
/// distribution port unchanged: the database in `dir` belongs to that node name), with
/// the configuration already in `config`. The same arguments as [`ejabberd_command`].
fn ejabberd_restart_command(
    dir: &Path,
    config: &Path,
    log: &Path,
    node: &ErlangNode,
) -> io::Result<Command> {
    let mut command = with_open_files_limit(&find_program("erl")?);
    command
        .env("EJABBERD_CONFIG_PATH", config)
        .env("EJABBERD_LOG_PATH", log)
        .env("ERL_LIBS", &node.erl_libs)
        .env("HOME", dir)
        .env("CONTRIB_MODULES_PATH", dir.join("modules"))
        .env("ERL_CRASH_DUMP", dir.join("erl_crash.dump"))
        .args(["-sname", &node.name, "-setcookie", &node.cookie])
        .args(["-start_epmd", "false"])
        .args(["-erl_epmd_port", &node.dist_port.to_string()])
        .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
        .args(["-mnesia", "dir", &erlang_string(&dir.join("db"))])
        .args(["+P", "1048576", "+Q", "65536"])
        .args(["-noinput", "-s", "ejabberd"]);
    Ok(command)
}

fn ejabberd_config(
    port: u16,
    tls_port: u16,
    tls: &ServerFiles,
    storage: PasswordStorage,
    tuning: Tuning,
) -> String {
    let config = format!(
        "\
loglevel: info
hosts:
  - {DOMAIN}
# Chain and key in one file, for the direct-TLS listener and STARTTLS on the plain
# one. The CA file keeps ejabberd from warning that the chain ends in an unknown,
# self-signed CA.
certfiles:
  - {certfile}
ca_file: {cafile}
# No shaper (none is also the default), a long queue per session and a long
# backlog: a thousand loopback clients must not be throttled or refused.
listen:
  -
    port: {port}
    ip: \"127.0.0.1\"
    module: ejabberd_c2s
    # Offered (not required) on XMPP 1.0 streams; version-less streams get no features.
    starttls: true
    access: c2s
    shaper: none
    max_fsm_queue: 10000
    backlog: {LISTEN_BACKLOG}
  -
    port: {tls_port}
    ip: \"127.0.0.1\"
    module: ejabberd_c2s
    tls: true
    access: c2s
    shaper: none
    max_fsm_queue: 10000
    backlog: {LISTEN_BACKLOG}
auth_method: internal
# Plain (the default) lets it check the iq:auth <digest>, which needs the clear
# password; scram keeps only SCRAM-SHA-1 keys.
auth_password_format: {format}
# Room for the accounts of a scale test in the credentials cache (default 1,000).
auth_cache_size: 100000
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
  # The blocking command (XEP-0191) works on privacy lists.
  mod_privacy: {{}}
  mod_blocking: {{}}
  # Short server-side idle timer: a client silent for 3 s is pinged and dropped if it
  # does not answer within 3 s; the idle scenarios must survive it.
  mod_ping:
    send_pings: true
    ping_interval: 3
    ping_ack_timeout: 3
    timeout_action: kill
  mod_disco: {{}}
  # Conferences (tests/conference.rs): persistent rooms (a room's process can be
  # killed and come back without its occupants: XEP-0410 self-ping), invitations by
  # any occupant.
  mod_muc:
    default_room_options:
      persistent: true
      allow_user_invites: true
  mod_carboncopy: {{}}
  # XEP-0198 with a short resumption window: a cut client resumes within seconds, and
  # a session nobody resumes is gone soon (its messages then go offline).
  mod_stream_mgmt:
    resume_timeout: 10
    max_resume_timeout: 10
",
        certfile = yaml_string(&tls.combined),
        cafile = yaml_string(&tls.ca),
        format = match storage {
            PasswordStorage::Plain => "plain",
            PasswordStorage::Hashed => "scram",
        },
    );
    match tuning {
        Tuning::Tests | Tuning::Upload { .. } | Tuning::WebSocket(_) => config,
        Tuning::Scale => scale_ejabberd_config(&config),
    }
}

/// The test configuration changed for [`Tuning::Scale`]: no server pings, no
/// overload killer, caches as large as the accounts.
fn scale_ejabberd_config(config: &str) -> String {
    let pings = "\
    send_pings: true
    ping_interval: 3
    ping_ack_timeout: 3
    timeout_action: kill
";
    assert!(config.contains(pings), "the mod_ping block changed");
    let mut config = config.replace(pings, "    send_pings: false\n");
    // Three info lines per login: at 10,000 logins the logger falls behind and drops.
    config = config.replacen("loglevel: info", "loglevel: warning", 1);
    config.push_str(
        "\
# Scale: ejabberd_system_monitor kills the processes with the longest queues when
# all of them together hold more than oom_queue messages, which 10,000 sessions that
# each have a few messages in flight do at once.
oom_killer: false
# Every cache (privacy lists, rosters, ...) as large as the accounts (default 1,000).
cache_size: 100000
",
    );
    config
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

fn prosody_command(
    dir: &Path,
    port: u16,
    tls_port: u16,
    tls: &ServerFiles,
    storage: PasswordStorage,
) -> io::Result<Launch> {
    let prosody = find_program("prosody")?;
    let config = dir.join("prosody.cfg.lua");
    let log = dir.join("prosody.log");
    fs::create_dir_all(dir.join("data"))?;
    // Certificates are looked for next to the configuration; an empty folder
    // keeps prosody from logging that it has none. (It indexes every `.crt`
    // there by the names inside: the TLS files live elsewhere and are named in
    // the configuration.)
    fs::create_dir_all(dir.join("certs"))?;
    fs::write(
        &config,
        prosody_config(dir, &log, port, tls_port, tls, storage),
    )?;
    let mut command = with_open_files_limit(&prosody);
    command.arg("-F").arg("--config").arg(&config);
    Ok((config, log, None, command))
}

fn prosody_config(
    dir: &Path,
    log: &Path,
    port: u16,
    tls_port: u16,
    tls: &ServerFiles,
    storage: PasswordStorage,
) -> String {
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
-- Direct TLS with the test CA's certificate; the same for STARTTLS on the plaintext
-- port, offered (not required) on XMPP 1.0 streams.
c2s_direct_tls_ports = {{ {tls_port} }}
c2s_direct_tls_ssl = {{ certificate = {chain}, key = {key} }}
ssl = {{ certificate = {chain}, key = {key} }}
legacy_ssl_ports = {{}}
s2s_ports = {{}}
s2s_direct_tls_ports = {{}}
component_ports = {{}}
http_ports = {{}}
https_ports = {{}}
-- Short server-side idle timer: after 3 s without reading from a client, prosody
-- runs its read-timeout handler (a keepalive); the idle scenarios must survive it.
-- A long listen backlog for a thousand clients that connect at once.
network_settings = {{ read_timeout = 3, tcp_backlog = {LISTEN_BACKLOG} }}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
-- internal_hashed by default: with internal_plain, 0.12.3 crashes on a legacy
-- login of an unknown user and never answers. (Its legacyauth has no <digest>.)
authentication = \"{authentication}\"
storage = \"internal\"
allow_registration = true
modules_enabled = {{ \"saslauth\", \"tls\", \"legacyauth\", \"register\", \"roster\", \"private\", \"vcard\", \"ping\", \"disco\", \"blocklist\", \"carbons\", \"smacks\" }}
-- XEP-0198 with a short resumption window (see ejabberd's mod_stream_mgmt above).
smacks_hibernation_time = 10
modules_disabled = {{ \"s2s\", \"s2s_auth_certs\" }}
VirtualHost \"{DOMAIN}\"
-- Conferences (XEP-0045) for tests/conference.rs.
Component \"conference.{DOMAIN}\" \"muc\"
",
        pidfile = path(&dir.join("prosody.pid")),
        data = path(&dir.join("data")),
        certs = path(&dir.join("certs")),
        log = path(log),
        chain = path(&tls.chain),
        key = path(&tls.key),
        authentication = match storage {
            PasswordStorage::Plain => "internal_plain",
            PasswordStorage::Hashed => "internal_hashed",
        },
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

/// `path` as a double-quoted YAML scalar.
fn yaml_string(path: &Path) -> String {
    quoted(path)
}

/// Lua, Erlang and YAML read `"..."` with backslash escapes alike.
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

/// The path of `program` on `PATH`; [`io::ErrorKind::NotFound`] if it is not
/// installed.
fn find_program(program: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{program} is not installed (not on PATH); run scripts/install-servers"),
            )
        })
}

/// A command that runs `program` (arguments to be added) with the soft
/// open-files limit raised to [`OPEN_FILES`], or to the hard limit if that is
/// lower. A `sh` sets the limit and `exec`s the program, which keeps the PID
/// (and so the process group) the caller sees.
fn with_open_files_limit(program: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "ulimit -n {OPEN_FILES} 2>/dev/null || ulimit -n \"$(ulimit -H -n)\" 2>/dev/null; \
             exec \"$0\" \"$@\""
        ))
        .arg(program);
    command
}

/// The record prosody's `internal_hashed` stores for an account with
/// `password` (`data/<host>/accounts/<user>.dat`, a Lua table): SCRAM-SHA-1
/// with a fresh random salt and `iterations` rounds of PBKDF2, as prosody's
/// `util.sasl.scram` derives it (the salt string's bytes are the salt).
fn scram_sha1_record(password: &str, iterations: u32) -> io::Result<String> {
    use ring::rand::SecureRandom;
    use ring::{digest, hmac, pbkdf2};
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| io::Error::other("no random numbers for a salt"))?;
    let salt = to_hex(&salt);
    let rounds = std::num::NonZeroU32::new(iterations)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "zero PBKDF2 rounds"))?;
    let mut salted = [0u8; 20];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA1,
        rounds,
        salt.as_bytes(),
        password.as_bytes(),
        &mut salted,
    );
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salted);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    Ok(format!(
        "return {{\n\t[\"iteration_count\"] = {iterations};\n\t[\"salt\"] = \"{salt}\";\n\
         \t[\"server_key\"] = \"{}\";\n\t[\"stored_key\"] = \"{}\";\n}};\n",
        to_hex(server_key.as_ref()),
        to_hex(stored_key.as_ref()),
    ))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A host or user name as prosody's file store writes it in a path: every
/// byte but ASCII letters and digits as `%xx`.
fn prosody_path_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
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
/// `stdin` if given; kills it after `timeout`.
fn run_with_timeout(
    command: &mut Command,
    stdin: Option<&str>,
    dir: &Path,
    timeout: Duration,
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
    let deadline = Instant::now() + timeout;
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
                format!("{command:?} did not finish within {timeout:?}"),
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
