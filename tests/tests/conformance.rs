//! One scenario suite, three adapters, two servers: every scenario below is written once
//! against the [`Session`] interface and run through `jabber-std`, `jabber-mio` and
//! `jabber-tokio`, against a real ejabberd and a real prosody on loopback. Test names
//! carry the server and the adapter (`prosody::tokio::message_round_trip`), and so does
//! every failure message.
//!
//! Scenarios: login and roster fetch (plain TCP), the plaintext and digest logins and
//! their refusals, login over direct TLS, an untrusted certificate refused, the
//! canonical own JID, in-band registration (conflict, password change, removal) and the
//! adapters' registration call, a message round trip, directed presence, a mutual
//! subscription and the unavailable presence at logout, roster add/update/remove seen
//! by a second resource, a replaced session, keepalive across an idle period longer
//! than both sides' idle timers, a frozen and a killed server, and logout. Where the
//! servers behave differently (prosody 0.12 offers no digest; ejabberd names a session
//! by the spelling of its login), the scenario asserts each server's own behaviour.
//!
//! Every scenario runs over the classic login and again over XMPP 1.0 (STARTTLS with
//! the test CA, SASL, binding), named `prosody::tokio::xmpp1::...` and with accounts of
//! their own; a scenario about a classic method asserts that method's 1.0 counterpart
//! there (SASL PLAIN, SCRAM-SHA-1 and -256, SASL `not-authorized`, PLAIN refused on a
//! stripped stream, registration after STARTTLS).
//!
//! A custom `main` (see `jabber_tests::runner`): one server of each kind serves every
//! adapter; each server × adapter × path group runs its scenarios in a thread of its
//! own; the frozen- and killed-server scenarios share a spare server of the group's
//! own, started in the background as the group begins.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use jabber_net::{Error, LoggedIn, Options, Tls};
use jabber_proto::client::{
    AccountEvent, CloseReason, Config, Event, IqEvent, PresenceEvent, RosterEvent, SessionState,
    StanzaEvent,
};
use jabber_proto::features::roster::{Roster, RosterItem, Subscription};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::{AuthMethod, Credentials, LoginError};
use jabber_proto::negotiation::register::Field;
use jabber_proto::negotiation::sasl::{Mechanism, MechanismSet, SaslCondition};
use jabber_proto::negotiation::scram::ScramHash;
use jabber_proto::ns;
use jabber_proto::stanza::{IqType, Message, MessageType, Presence, PresenceType, StanzaCondition};
use jabber_proto::stream::Condition as StreamCondition;
use jabber_proto::xml::Element;
use jabber_tests::adapters::{self, Adapter, Next, Session};
use jabber_tests::certs::TestCa;
use jabber_tests::runner::{self, Filter, Scenario, Tally};
use jabber_tests::scenario::{self, body_of, call, closed_reason, wait_for, wait_until};
use jabber_tests::strip_tls::StripTls;
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "pw-conformance";

/// Accounts created before the scenarios run, one of each per adapter (`alice-std`,
/// `alice-mio`, ...), so that the adapters' threads do not replace each other's sessions
/// or see each other's roster changes. Scenarios that change a roster have accounts of
/// their own: erin and frank subscribe to each other, grace edits her roster.
const USERS: [&str; 6] = ["alice", "bob", "carol", "erin", "frank", "grace"];

/// How long a scenario waits for an event the server owes it.
const WAIT: Duration = Duration::from_secs(10);

/// The login path a scenario set runs over: the classic `jabber:iq:auth` login on a
/// version-less stream, or XMPP 1.0 (STARTTLS with the test CA on the plain port,
/// SASL SCRAM, resource binding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Classic,
    Xmpp1,
}

impl Path {
    const ALL: [Path; 2] = [Path::Classic, Path::Xmpp1];

    /// The part of test names and account names that tells the path (none for the
    /// classic one, whose names predate the parameter).
    fn suffix(self) -> &'static str {
        match self {
            Path::Classic => "",
            Path::Xmpp1 => "-x1",
        }
    }
}

struct Ctx<'a> {
    adapter: Box<dyn Adapter>,
    /// Which login path the scenarios take.
    path: Path,
    server: &'a Server,
    /// A server of the same kind for this group alone, started on first use: the
    /// frozen-server scenario pauses and resumes it, the killed-server one kills it.
    spare: RefCell<Option<Server>>,
    /// The spare being started in the background, when the group runs a scenario that
    /// needs it.
    spare_start: RefCell<Option<std::thread::JoinHandle<std::io::Result<Server>>>>,
}

/// The scenarios that use the spare server.
const SPARE_SCENARIOS: [&str; 2] = ["frozen_server_is_a_dead_peer", "killed_server_is_detected"];

/// A spare server of `kind`, with the account `dave`, registered in band (a classic
/// stream on loopback): an ejabberd control node would cost a second Erlang VM's start
/// per spare.
fn start_spare(kind: ServerKind) -> std::io::Result<Server> {
    let spare = Server::start(kind)?;
    let mut config = Config::new(spare.domain(), jabber_net::fresh_seed());
    config.version = None;
    config.allow_plaintext = true;
    let registered = jabber_std::Connection::connect_with(spare.addr(), config, Options::plain())
        .and_then(|mut conn| conn.register("dave", PASSWORD));
    registered.map_err(|e| std::io::Error::other(format!("registering dave: {e}")))?;
    Ok(spare)
}

/// The scenarios of `path`, in the order they run (a function: the context borrows the
/// server). Every scenario runs on both paths, with the 1.0 meaning where the classic
/// one names a classic method: plaintext is SASL PLAIN over STARTTLS, the digest is
/// SCRAM by hash, a wrong password a SASL `not-authorized`, the plaintext refusal the
/// same refusal on a 1.0 stream whose STARTTLS an attacker stripped.
fn scenarios_for<'a>(_path: Path) -> Vec<Scenario<Ctx<'a>>> {
    scenarios()
}

/// Every scenario, in the order they run.
fn scenarios<'a>() -> Vec<Scenario<Ctx<'a>>> {
    vec![
        ("login_and_roster_fetch", login_and_roster_fetch),
        ("plaintext_login", plaintext_login),
        ("digest_login", digest_login),
        ("wrong_password_is_a_typed_failure", wrong_password),
        ("plaintext_refused_when_not_allowed", plaintext_refused),
        ("login_over_direct_tls", login_over_direct_tls),
        ("untrusted_certificate_is_refused", untrusted_certificate),
        ("canonical_own_jid", canonical_own_jid),
        (
            "registration_conflict_password_change_removal",
            registration,
        ),
        ("register_call", register_call),
        ("message_round_trip", message_round_trip),
        ("directed_presence", directed_presence),
        (
            "subscription_then_unavailable_at_logout",
            unavailable_at_logout,
        ),
        ("roster_set_update_remove", roster_set_update_remove),
        ("replaced_session_gets_the_stream_error", replaced_session),
        ("keepalive_across_idle_period", keepalive_across_idle_period),
        ("frozen_server_is_a_dead_peer", frozen_server),
        ("killed_server_is_detected", killed_server),
        ("logout", logout),
    ]
}

fn main() -> ExitCode {
    let filter = Filter::from_args();
    let started = Instant::now();
    let filter = &filter;
    let tallies = runner::in_parallel(
        ServerKind::ALL
            .into_iter()
            .map(|kind| move || run_server(kind, filter)),
    );
    runner::finish(&tallies, started)
}

/// Starts a server of `kind`, creates the accounts, and runs the selected scenarios
/// through every adapter, one thread per adapter.
fn run_server(kind: ServerKind, filter: &Filter) -> Tally {
    let names: Vec<&str> = adapters::all().iter().map(|make| make().name()).collect();
    if !names.iter().any(|a| {
        Path::ALL.iter().any(|path| {
            runner::any_selected(&group_name(kind, a, *path), &scenarios_for(*path), filter)
        })
    }) {
        return Tally::default();
    }
    let server = match Server::start(kind) {
        Ok(s) => s,
        Err(e) => return Tally::setup_failed(&format!("{kind}::start"), &e),
    };
    // Every group's accounts at once: one control node, not one per account.
    let accounts: Vec<String> = names
        .iter()
        .flat_map(|adapter| {
            Path::ALL.into_iter().flat_map(move |path| {
                USERS.map(|user| format!("{user}-{adapter}{}", path.suffix()))
            })
        })
        .collect();
    if let Err(e) = server.register_each(&accounts, PASSWORD) {
        return Tally::setup_failed(&format!("{kind}::accounts"), &e);
    }
    let server = &server;
    // One thread per adapter and path: the scenarios mostly wait on the servers.
    let groups = adapters::all()
        .into_iter()
        .flat_map(|make| Path::ALL.map(|path| (make, path)));
    runner::in_parallel(groups.map(|(make, path)| {
        move || {
            let adapter = make();
            let group = group_name(kind, adapter.name(), path);
            let scenarios = scenarios_for(path);
            if !runner::any_selected(&group, &scenarios, filter) {
                return Tally::default();
            }
            // The spare starts while the first scenarios run: twelve groups each waiting
            // for a server of their own at the end cost the suite a quarter of its time.
            let needs_spare = SPARE_SCENARIOS
                .iter()
                .any(|name| filter.selected(&format!("{group}::{name}")));
            let spare_start = needs_spare.then(|| std::thread::spawn(move || start_spare(kind)));
            let ctx = Ctx {
                adapter,
                path,
                server,
                spare: RefCell::new(None),
                spare_start: RefCell::new(spare_start),
            };
            runner::run_scenarios(&group, &ctx, &scenarios, filter, &diagnose)
        }
    }))
    .into_iter()
    .sum()
}

/// Test names: `prosody::tokio::message_round_trip` on the classic path,
/// `prosody::tokio::xmpp1::message_round_trip` on the 1.0 path.
fn group_name(kind: ServerKind, adapter: &str, path: Path) -> String {
    match path {
        Path::Classic => format!("{kind}::{adapter}"),
        Path::Xmpp1 => format!("{kind}::{adapter}::xmpp1"),
    }
}

/// The servers' logs, printed with a failure.
fn diagnose(ctx: &Ctx<'_>) -> String {
    let mut logs = format!("--- server log ---\n{}", ctx.server.log_tail());
    if let Ok(spare) = ctx.spare.try_borrow() {
        if let Some(spare) = spare.as_ref() {
            logs.push_str(&format!("--- spare server log ---\n{}", spare.log_tail()));
        }
    }
    logs
}

// ---- helpers ----

impl Ctx<'_> {
    fn kind(&self) -> ServerKind {
        self.server.kind()
    }

    /// This adapter's account `user`.
    fn user(&self, user: &str) -> String {
        format!("{user}-{}{}", self.adapter.name(), self.path.suffix())
    }

    /// This adapter's account `user` as a bare JID.
    fn bare(&self, user: &str) -> Jid {
        Jid::new(Some(&self.user(user)), self.server.domain(), None).expect("a bare JID")
    }

    fn config(&self) -> Config {
        let mut c = Config::new(self.server.domain(), jabber_net::fresh_seed());
        // Generous for a loaded CI machine; the timing scenarios set their own.
        c.iq_timeout = Duration::from_secs(20);
        // Stated on both paths, whatever the default.
        c.version = match self.path {
            Path::Classic => None,
            Path::Xmpp1 => Some("1.0".into()),
        };
        c
    }

    /// How the server lets the password be proven on plain TCP: ejabberd offers the
    /// digest, so no plaintext password crosses; prosody 0.12 offers none, so sessions on
    /// it send the password as it is (loopback only).
    fn allow_password(&self, config: &mut Config) {
        config.allow_plaintext = match self.kind() {
            ServerKind::Ejabberd => false,
            ServerKind::Prosody => true,
        };
    }

    /// The method [`allow_password`](Self::allow_password) leads to.
    fn login_method(&self) -> AuthMethod {
        match self.kind() {
            ServerKind::Ejabberd => AuthMethod::Digest,
            ServerKind::Prosody => AuthMethod::Plaintext,
        }
    }

    /// Asserts that a login on this path used the method it should: the classic one
    /// [`login_method`](Self::login_method) says, SASL SCRAM on the 1.0 path.
    fn assert_method(&self, method: Option<AuthMethod>, who: &str) {
        match self.path {
            Path::Classic => assert_eq!(method, Some(self.login_method()), "how {who} logged in"),
            Path::Xmpp1 => assert!(
                matches!(method, Some(AuthMethod::Sasl(Mechanism::Scram { .. }))),
                "how {who} logged in: {method:?}"
            ),
        }
    }

    /// Connects with `options`; on the 1.0 path a plain connection negotiates STARTTLS
    /// trusting the test CA.
    fn connect(&self, addr: SocketAddr, config: Config, mut options: Options) -> Box<dyn Session> {
        if self.path == Path::Xmpp1 && options.tls.is_none() {
            options.starttls = Some(test_tls());
        }
        self.adapter
            .connect(addr, config, options)
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }

    /// A logged-in session on `server` (the shared one or the spare) with `credentials`
    /// over plain TCP, and what the login returned; the password proven as the server
    /// allows.
    fn login_with(
        &self,
        server: &Server,
        credentials: Credentials,
        mut config: Config,
    ) -> (Box<dyn Session>, LoggedIn) {
        self.allow_password(&mut config);
        let mut session = self.connect(server.addr(), config, Options::plain());
        let who = credentials.username.clone();
        let me = session
            .login(credentials)
            .unwrap_or_else(|e| panic!("login as {who}: {e}"));
        let method = call(&mut *session, |c, _| Ok(c.login_method()));
        self.assert_method(method, &who);
        (session, me)
    }

    /// A logged-in session of this adapter's `user` on the shared server.
    fn login(&self, user: &str, config: Config) -> Box<dyn Session> {
        self.login_with(self.server, creds(&self.user(user)), config)
            .0
    }

    /// The spare server (started, with the account `dave`, if there is none).
    fn take_spare(&self) -> Server {
        if let Some(spare) = self.spare.borrow_mut().take() {
            return spare;
        }
        let started = self.spare_start.borrow_mut().take();
        let spare = match started {
            Some(thread) => thread.join().expect("the spare's start did not panic"),
            None => start_spare(self.kind()),
        };
        spare.expect("a spare server with its account")
    }
}

/// Trusts the run's throw-away CA and nothing else.
fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

fn creds(user: &str) -> Credentials {
    scenario::creds(user, PASSWORD)
}

/// The session's own full JID.
fn full_jid(session: &mut dyn Session) -> Jid {
    session.jid().expect("logged in: a JID")
}

fn chat(to: &Jid, body: &str) -> Element {
    Message::new(MessageType::Chat, to, body)
        .expect("a valid message")
        .into()
}

fn login_error(result: Result<LoggedIn, Error>) -> LoginError {
    match result {
        Err(Error::Login(e)) => e,
        Err(other) => panic!("expected a login failure, got {other}"),
        Ok(l) => panic!("logged in as {} where it must fail", l.jid),
    }
}

fn presence_of(e: &Event) -> Option<&Presence> {
    match e {
        Event::Presence(PresenceEvent::Available(p) | PresenceEvent::Unavailable(p)) => Some(p),
        Event::Subscription(s) => Some(s.presence()),
        _ => None,
    }
}

fn push_of(e: &Event) -> Option<Roster> {
    match e {
        Event::Roster(RosterEvent::Push(r)) => Some(r.clone()),
        _ => None,
    }
}

/// The item for `jid` in a roster push where both sides subscribe to each other.
fn mutual(e: &Event, jid: &Jid) -> bool {
    push_of(e).is_some_and(|r| {
        r.items
            .iter()
            .any(|i| i.jid == *jid && i.subscription == Subscription::Both)
    })
}

/// The outcome of the IQ request `id`.
fn iq_outcome(session: &mut dyn Session, id: jabber_proto::client::IqId) -> IqEvent {
    wait_for(session, WAIT, |e| match e {
        Event::Iq(outcome) if outcome.id() == id => Some(outcome.clone()),
        _ => None,
    })
}

fn account_event(session: &mut dyn Session, pick: fn(&AccountEvent) -> bool) -> AccountEvent {
    wait_for(session, WAIT, |e| match e {
        Event::Account(a) if pick(a) => Some(a.clone()),
        _ => None,
    })
}

// ---- scenarios ----

fn login_and_roster_fetch(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut config = ctx.config();
    ctx.allow_password(&mut config);
    let mut session = ctx.connect(server.addr(), config, Options::plain());
    assert!(!session.is_tls());
    let me = session.login(creds(&ctx.user("alice"))).expect("login");
    assert_eq!(me.jid.local(), Some(ctx.user("alice").as_str()));
    assert_eq!(me.jid.domain(), server.domain());
    // Config::fetch_roster is on by default: the roster came with the login (empty for
    // a fresh account, but present).
    let roster = me.roster.expect("the roster was fetched");
    assert!(roster.items.is_empty(), "{roster:?}");

    // Add a contact (a raw roster set); the server pushes the change to our session
    // (acknowledged by the core) and answers the request, in either order.
    let bob = ctx.bare("bob");
    let item = Element::builder("query", ns::IQ_ROSTER)
        .child(
            Element::builder("item", ns::IQ_ROSTER)
                .attr("jid", bob.as_str())
                .attr("name", "Bob")
                .child(Element::builder("group", ns::IQ_ROSTER).text("Friends")),
        )
        .build()
        .expect("a roster item");
    let id = call(&mut *session, move |client, now| {
        client.send_iq(now, None, IqType::Set, item)
    });
    let (mut pushed, mut answered) = (None, false);
    wait_until(&mut *session, WAIT, |e| {
        match e {
            Event::Roster(RosterEvent::Push(r)) => pushed = Some(r.clone()),
            Event::Iq(IqEvent::Result { id: got, .. }) if *got == id => answered = true,
            _ => {}
        }
        pushed.is_some() && answered
    });
    let pushed = pushed.expect("a push");
    assert_eq!(pushed.items.len(), 1, "{pushed:?}");
    assert_eq!(pushed.items[0].jid, bob);
    assert_eq!(session.close().expect("logout"), CloseReason::Local);

    // A new session fetches it with the login.
    let (again, me) = ctx.login_with(server, creds(&ctx.user("alice")), ctx.config());
    let roster = me.roster.expect("the roster was fetched");
    let item = roster
        .items
        .iter()
        .find(|i| i.jid == bob)
        .unwrap_or_else(|| panic!("bob in the roster: {roster:?}"));
    assert_eq!(item.name.as_deref(), Some("Bob"));
    assert_eq!(item.groups, vec!["Friends".to_string()]);
    assert_eq!(item.subscription, Subscription::None);
    assert_eq!(again.close().expect("logout"), CloseReason::Local);
}

fn plaintext_login(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut c = ctx.config();
    let expected = match ctx.path {
        Path::Classic => {
            c.use_digest = false; // ejabberd offers the digest too; this is the plaintext path
            c.allow_plaintext = true;
            AuthMethod::Plaintext
        }
        // SASL PLAIN alone, over STARTTLS: allowed by the encryption, not by the config.
        Path::Xmpp1 => {
            c.sasl_mechanisms = MechanismSet::only(Mechanism::Plain);
            assert!(!c.allow_plaintext);
            AuthMethod::Sasl(Mechanism::Plain)
        }
    };
    let mut session = ctx.connect(server.addr(), c, Options::plain());
    let me = session
        .login(creds(&ctx.user("alice")))
        .expect("plaintext login");
    assert_eq!(me.jid.local(), Some(ctx.user("alice").as_str()));
    assert_eq!(me.jid.domain(), server.domain());
    assert!(me.roster.is_some(), "the roster is fetched after login");
    let (state, method, encrypted) = call(&mut *session, |c, _| {
        Ok((
            c.session_state(),
            c.login_method(),
            c.config().transport_encrypted,
        ))
    });
    assert_eq!(state, SessionState::Ready);
    assert_eq!(method, Some(expected));
    assert_eq!(encrypted, ctx.path == Path::Xmpp1);
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}

fn digest_login(ctx: &Ctx<'_>) {
    if ctx.path == Path::Xmpp1 {
        return scram_by_hash(ctx);
    }
    let server = ctx.server;
    let c = ctx.config();
    assert!(!c.allow_plaintext);
    let mut session = ctx.connect(server.addr(), c, Options::plain());
    let outcome = session.login(creds(&ctx.user("bob")));
    match ctx.kind() {
        ServerKind::Ejabberd => {
            let me = outcome.expect("digest login on ejabberd");
            assert_eq!(me.jid.local(), Some(ctx.user("bob").as_str()));
            let method = call(&mut *session, |c, _| Ok(c.login_method()));
            assert_eq!(method, Some(AuthMethod::Digest));
        }
        // prosody 0.12 offers no <digest/>: the client must say so, not pretend.
        ServerKind::Prosody => {
            assert_eq!(login_error(outcome), LoginError::PlaintextNotAllowed);
            let reason = wait_for(&mut *session, WAIT, closed_reason);
            assert_eq!(reason, CloseReason::Local);
        }
    }
}

/// The 1.0 counterpart of the digest: SCRAM-SHA-1 alone, then SCRAM-SHA-256 alone where
/// the server offers it (ejabberd 23.01 with plain password storage: SHA-1, -256 and
/// -512; prosody 0.12: SHA-1 only, so SHA-256 alone has nothing in common).
fn scram_by_hash(ctx: &Ctx<'_>) {
    let sha256_offered = ctx.kind() == ServerKind::Ejabberd;
    for (hash, offered) in [(ScramHash::Sha1, true), (ScramHash::Sha256, sha256_offered)] {
        let scram = Mechanism::Scram { hash, plus: false };
        let mut c = ctx.config();
        c.sasl_mechanisms = MechanismSet::only(scram);
        let mut session = ctx.connect(ctx.server.addr(), c, Options::plain());
        let outcome = session.login(creds(&ctx.user("bob")));
        if offered {
            let me = outcome.unwrap_or_else(|e| panic!("{scram} login: {e}"));
            assert_eq!(me.jid.local(), Some(ctx.user("bob").as_str()));
            let method = call(&mut *session, |c, _| Ok(c.login_method()));
            assert_eq!(method, Some(AuthMethod::Sasl(scram)));
            assert_eq!(session.close().expect("logout"), CloseReason::Local);
        } else {
            assert_eq!(login_error(outcome), LoginError::NoCommonMethod, "{scram}");
            let reason = wait_for(&mut *session, WAIT, closed_reason);
            assert_eq!(reason, CloseReason::Local);
        }
    }
}

/// Asserts that `e` is the refusal of a wrong password on this path: 401
/// `not-authorized` on the classic one, SASL `not-authorized` on 1.0.
fn assert_wrong_password(ctx: &Ctx<'_>, e: &LoginError, what: &str) {
    match ctx.path {
        Path::Classic => {
            assert_eq!(
                e.condition(),
                Some(StanzaCondition::NotAuthorized),
                "{what}: {e}"
            );
            assert_eq!(e.code(), Some(401), "{what}");
        }
        Path::Xmpp1 => match e {
            LoginError::Sasl(f) => {
                assert_eq!(
                    f.condition,
                    Some(SaslCondition::NotAuthorized),
                    "{what}: {f}"
                );
            }
            other => panic!("{what}: expected a SASL failure, got {other:?}"),
        },
    }
}

fn wrong_password(ctx: &Ctx<'_>) {
    // Classic: the digest and the plaintext password; 1.0: SCRAM and PLAIN.
    for strongest in [true, false] {
        let mut c = ctx.config();
        c.allow_plaintext = true;
        c.use_digest = strongest;
        if !strongest {
            c.sasl_mechanisms = MechanismSet::only(Mechanism::Plain);
        }
        let mut session = ctx.connect(ctx.server.addr(), c, Options::plain());
        let e = login_error(session.login(scenario::creds(&ctx.user("alice"), "not-the-password")));
        assert_wrong_password(ctx, &e, &format!("strongest method {strongest}"));
        assert!(session.jid().is_none(), "strongest method {strongest}");
    }
}

fn plaintext_refused(ctx: &Ctx<'_>) {
    if ctx.path == Path::Xmpp1 {
        return plain_refused_on_a_stripped_stream(ctx);
    }
    let mut c = ctx.config();
    c.use_digest = false; // so ejabberd, too, has only the plaintext method left
    assert!(!c.allow_plaintext);
    let mut session = ctx.connect(ctx.server.addr(), c, Options::plain());
    let e = login_error(session.login(creds(&ctx.user("alice"))));
    assert_eq!(e, LoginError::PlaintextNotAllowed);
    let reason = wait_for(&mut *session, WAIT, closed_reason);
    assert_eq!(reason, CloseReason::Local);
}

/// The 1.0 counterpart: an attacker strips STARTTLS from the features (a proxy here).
/// With `require_tls` the login fails at once; without it, PLAIN (the only mechanism
/// allowed) is refused before the password leaves. The same stripped stream with
/// `allow_plaintext` shows the refusal is the client's: the server takes PLAIN there.
fn plain_refused_on_a_stripped_stream(ctx: &Ctx<'_>) {
    let proxy = StripTls::start(ctx.server.addr()).expect("the proxy");
    let connect = |c: Config| {
        // Options::plain() with STARTTLS configured: offered, the core would use it.
        let mut options = Options::plain();
        options.starttls = Some(test_tls());
        ctx.adapter
            .connect(proxy.addr(), c, options)
            .unwrap_or_else(|e| panic!("connect: {e}"))
    };
    let mut session = connect(ctx.config());
    let e = login_error(session.login(creds(&ctx.user("alice"))));
    assert_eq!(e, LoginError::TlsRequired);
    assert_eq!(
        wait_for(&mut *session, WAIT, closed_reason),
        CloseReason::Local
    );

    let mut c = ctx.config();
    c.require_tls = false;
    c.sasl_mechanisms = MechanismSet::only(Mechanism::Plain);
    assert!(!c.allow_plaintext);
    let mut session = connect(c.clone());
    let e = login_error(session.login(creds(&ctx.user("alice"))));
    assert_eq!(e, LoginError::PlaintextNotAllowed);
    assert_eq!(
        wait_for(&mut *session, WAIT, closed_reason),
        CloseReason::Local
    );

    c.allow_plaintext = true;
    let mut session = connect(c);
    session
        .login(creds(&ctx.user("alice")))
        .expect("PLAIN on the stripped stream, allowed");
    assert!(!session.is_tls());
    let method = call(&mut *session, |c, _| Ok(c.login_method()));
    assert_eq!(method, Some(AuthMethod::Sasl(Mechanism::Plain)));
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}

fn login_over_direct_tls(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut config = ctx.config();
    // No digest: the password goes as it is, which the core allows only because the
    // adapter tells it the transport is encrypted (allow_plaintext stays off).
    config.use_digest = false;
    assert!(!config.allow_plaintext);
    let mut session = ctx.connect(server.tls_addr(), config, Options::tls(test_tls()));
    assert!(session.is_tls());
    let me = session
        .login(creds(&ctx.user("alice")))
        .expect("login over TLS");
    assert_eq!(me.jid.domain(), server.domain());
    let to = me.jid.clone();
    session.send(chat(&to, "over TLS")).expect("send");
    assert_eq!(wait_for(&mut *session, WAIT, body_of), "over TLS");
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}

fn untrusted_certificate(ctx: &Ctx<'_>) {
    // Only the built-in roots: the throw-away CA is unknown, the handshake must fail
    // before any XMPP byte is exchanged.
    let mut session = ctx.connect(ctx.server.tls_addr(), ctx.config(), Options::default());
    match session.login(creds(&ctx.user("alice"))) {
        Err(Error::Tls(e)) => {
            let text = e.to_string();
            assert!(text.contains("certificate"), "{text}");
        }
        Err(other) => panic!("expected a TLS error, got {other}"),
        Ok(me) => panic!("logged in as {} with an untrusted certificate", me.jid),
    }
}

fn canonical_own_jid(ctx: &Ctx<'_>) {
    // Registered as `carol-…`, logging in as `Carol-…`: the account is the same (both
    // servers fold the localpart's case), and the core must report the canonical
    // address, not the spelling we typed.
    let user = ctx.user("carol");
    let typed = format!("C{}", &user[1..]);
    let credentials = creds(&typed);
    let resource = credentials.resource.clone();
    let full = |local: &str| {
        Jid::new(Some(local), ctx.server.domain(), Some(&resource)).expect("a full JID")
    };
    let (canonical, as_typed) = (full(&user), full(&typed));
    let (mut carol, me) = ctx.login_with(ctx.server, credentials, ctx.config());
    // As text: JID equality is canonical itself, so `==` could not tell the spellings apart.
    assert_eq!(me.jid.as_str(), canonical.as_str(), "the Ready event's JID");
    let jid = carol.jid().expect("Session::jid()");
    assert_eq!(jid.as_str(), canonical.as_str(), "Session::jid()");

    // How each server names the session. prosody folds the name at login: stanzas to
    // us carry the canonical address, whichever spelling the sender used, and so does
    // the `from` it stamps on ours. ejabberd 23.01 routes case-insensitively but names
    // the session as the login spelled it, in the `to` it delivers and the `from` it
    // stamps: the same address, compared as RFC 7622 does (localpart case-folded), yet
    // not the canonical spelling.
    let named = match ctx.kind() {
        ServerKind::Prosody => &canonical,
        ServerKind::Ejabberd => &as_typed,
    };
    let mut bob = ctx.login("bob", ctx.config());
    for (to, body) in [
        (&canonical, "to the canonical address"),
        (&as_typed, "to the typed address"),
    ] {
        bob.send(chat(to, body)).expect("send");
        let got = wait_for(&mut *carol, WAIT, |e| match e {
            Event::Stanza(StanzaEvent::Message(m)) if m.body().as_deref() == Some(body) => {
                Some(m.element().attr("to").map(String::from))
            }
            _ => None,
        });
        let got = Jid::parse(&got.expect("a `to`")).expect("a JID");
        assert_eq!(
            got.as_str(),
            named.as_str(),
            "the `to` of a message to {to}"
        );
        // On both servers the `to` is our address as JIDs compare (canonically), which
        // is what `Client::jid`'s documentation tells applications to rely on.
        let ours = full_jid(&mut *carol);
        assert_eq!(got, ours, "{got} is not {ours}");
    }
    let bob_jid = full_jid(&mut *bob);
    carol.send(chat(&bob_jid, "from carol")).expect("send");
    let from = wait_for(&mut *bob, WAIT, |e| match e {
        Event::Stanza(StanzaEvent::Message(m)) if m.body().as_deref() == Some("from carol") => {
            Some(m.element().attr("from").map(String::from))
        }
        _ => None,
    });
    assert_eq!(
        from.as_deref(),
        Some(named.as_str()),
        "the `from` the server stamps"
    );
    assert_eq!(carol.close().expect("logout"), CloseReason::Local);
    assert_eq!(bob.close().expect("logout"), CloseReason::Local);
}

fn registration(ctx: &Ctx<'_>) {
    static N: AtomicU32 = AtomicU32::new(0);
    let user = format!("newbie{}", N.fetch_add(1, Ordering::Relaxed));
    let (first, second) = ("first-pw", "second-pw");
    let taken = ctx.user("alice");
    let addr = ctx.server.addr();

    // Registration and password changes carry the password itself: on the classic
    // path allowed on loopback; on 1.0 the stream is encrypted first (STARTTLS before
    // the form is asked for), and that allows it.
    let mut c = ctx.config();
    c.allow_plaintext = ctx.path == Path::Classic;
    // The form, a conflict on an existing name, then success on the same stream.
    let mut session = ctx.connect(addr, c.clone(), Options::plain());
    call(&mut *session, |c, now| c.request_registration(now));
    let AccountEvent::RegistrationForm(mut form) = account_event(&mut *session, |a| {
        matches!(a, AccountEvent::RegistrationForm(_))
    }) else {
        unreachable!()
    };
    let encrypted = call(&mut *session, |c, _| Ok(c.config().transport_encrypted));
    assert_eq!(encrypted, ctx.path == Path::Xmpp1, "the form came over TLS");
    assert!(form.get(Field::Username).is_some() && form.get(Field::Password).is_some());
    assert!(form.instructions().is_some());
    form.set(Field::Username, &taken);
    form.set(Field::Password, first);
    call(&mut *session, move |c, now| {
        c.submit_registration(now, &form)
    });
    let AccountEvent::RegistrationConflict(mut form) = account_event(&mut *session, |a| {
        matches!(a, AccountEvent::RegistrationConflict(_))
    }) else {
        unreachable!()
    };
    assert_eq!(form.get(Field::Username), Some(taken.as_str()));
    form.set(Field::Username, &user);
    call(&mut *session, move |c, now| {
        c.submit_registration(now, &form)
    });
    account_event(&mut *session, |a| matches!(a, AccountEvent::Registered));
    let reason = wait_for(&mut *session, WAIT, closed_reason);
    assert!(reason.is_clean(), "{reason}");

    // The new account logs in and changes its password.
    let mut session = ctx.connect(addr, c.clone(), Options::plain());
    session
        .login(scenario::creds(&user, first))
        .expect("login as the new account");
    call(&mut *session, move |c, now| c.change_password(now, second));
    account_event(&mut *session, |a| {
        matches!(a, AccountEvent::PasswordChanged)
    });
    session.close().expect("logout");

    // Only the new password works now.
    let mut session = ctx.connect(addr, c.clone(), Options::plain());
    let e = login_error(session.login(scenario::creds(&user, first)));
    assert_wrong_password(ctx, &e, "the old password");
    let mut session = ctx.connect(addr, c.clone(), Options::plain());
    session
        .login(scenario::creds(&user, second))
        .expect("login with the new password");

    // Removal: the server confirms, then ends the session.
    call(&mut *session, |c, now| c.remove_account(now));
    account_event(&mut *session, |a| matches!(a, AccountEvent::Removed));
    wait_for(&mut *session, WAIT, closed_reason);
    let mut session = ctx.connect(addr, c, Options::plain());
    let e = login_error(session.login(scenario::creds(&user, second)));
    assert_wrong_password(ctx, &e, "a removed account");
}

fn register_call(ctx: &Ctx<'_>) {
    static N: AtomicU32 = AtomicU32::new(0);
    let user = format!(
        "quick{}{}",
        N.fetch_add(1, Ordering::Relaxed),
        ctx.path.suffix()
    );
    let addr = ctx.server.addr();
    let mut c = ctx.config();
    // Without the plaintext allowance the password may not go out in plaintext: refused
    // locally. On 1.0 that takes a stream without TLS: STARTTLS stripped, require_tls off.
    let refused = match ctx.path {
        Path::Classic => ctx
            .connect(addr, c.clone(), Options::plain())
            .register(&user, "pw"),
        Path::Xmpp1 => {
            let proxy = StripTls::start(addr).expect("the proxy");
            let mut stripped = c.clone();
            stripped.require_tls = false;
            ctx.connect(proxy.addr(), stripped, Options::plain())
                .register(&user, "pw")
        }
    };
    assert!(
        matches!(
            refused,
            Err(Error::Client(
                jabber_proto::client::Error::PlaintextNotAllowed
            ))
        ),
        "{refused:?}"
    );
    // Classic: allowed on loopback; 1.0: STARTTLS first, which allows it.
    c.allow_plaintext = ctx.path == Path::Classic;
    let mut session = ctx.connect(addr, c.clone(), Options::plain());
    assert!(matches!(
        session.register(&ctx.user("alice"), "pw"),
        Err(Error::UsernameTaken)
    ));
    // Same stream, another name.
    session.register(&user, "pw").expect("register");
    let reason = wait_for(&mut *session, WAIT, closed_reason);
    assert!(reason.is_clean(), "{reason}");
    let mut session = ctx.connect(addr, c, Options::plain());
    let me = session
        .login(scenario::creds(&user, "pw"))
        .expect("login as the new account");
    assert_eq!(me.jid.local(), Some(user.as_str()));
}

fn message_round_trip(ctx: &Ctx<'_>) {
    let mut alice = ctx.login("alice", ctx.config());
    let mut bob = ctx.login("bob", ctx.config());
    let bob_jid = full_jid(&mut *bob);
    let alice_jid = full_jid(&mut *alice);
    let body = "ping <&> ünïcödé";
    alice.send(chat(&bob_jid, body)).expect("send");
    assert_eq!(wait_for(&mut *bob, WAIT, body_of), body);
    bob.send(chat(&alice_jid, "pong")).expect("send");
    assert_eq!(wait_for(&mut *alice, WAIT, body_of), "pong");
    assert_eq!(alice.close().expect("logout"), CloseReason::Local);
    assert_eq!(bob.close().expect("logout"), CloseReason::Local);
}

fn directed_presence(ctx: &Ctx<'_>) {
    let mut alice = ctx.login("alice", ctx.config());
    let mut bob = ctx.login("bob", ctx.config());
    let bob_jid = full_jid(&mut *bob);
    let alice_jid = full_jid(&mut *alice);
    let presence = Element::builder("presence", ns::CLIENT)
        .attr("to", bob_jid.as_str())
        .child(Element::builder("show", ns::CLIENT).text("away"))
        .child(Element::builder("status", ns::CLIENT).text("at lunch"))
        .build()
        .expect("presence");
    alice.send(presence).expect("send");
    let (from, status) = wait_for(&mut *bob, WAIT, |e| match presence_of(e) {
        Some(p) if p.status().is_some() => Some((
            p.from().map(|f| f.to_string()),
            p.status().map(|s| s.to_string()),
        )),
        _ => None,
    });
    assert_eq!(from.as_deref(), Some(alice_jid.as_str()));
    assert_eq!(status.as_deref(), Some("at lunch"));
    assert_eq!(alice.close().expect("logout"), CloseReason::Local);
    assert_eq!(bob.close().expect("logout"), CloseReason::Local);
}

fn unavailable_at_logout(ctx: &Ctx<'_>) {
    let mut erin = ctx.login("erin", ctx.config());
    let mut frank = ctx.login("frank", ctx.config());
    let erin_full = full_jid(&mut *erin);
    let (erin_bare, frank_bare) = (ctx.bare("erin"), ctx.bare("frank"));
    let subscribe_from = |e: &Event, from: &Jid| {
        presence_of(e)
            .filter(|p| p.kind() == PresenceType::Subscribe && p.from().is_some_and(|f| f == *from))
            .map(|_| ())
    };
    let send = |session: &mut dyn Session, p: Result<Presence, _>| {
        session.send(p.expect("a presence").into()).expect("send");
    };

    // Erin asks, Frank approves and asks back, Erin approves: subscribed both ways, and
    // both rosters say so.
    send(&mut *erin, Presence::subscribe(&frank_bare).build());
    wait_for(&mut *frank, WAIT, |e| subscribe_from(e, &erin_bare));
    send(&mut *frank, Presence::subscribed(&erin_bare).build());
    send(&mut *frank, Presence::subscribe(&erin_bare).build());
    wait_for(&mut *erin, WAIT, |e| subscribe_from(e, &frank_bare));
    send(&mut *erin, Presence::subscribed(&frank_bare).build());
    wait_for(&mut *erin, WAIT, |e| mutual(e, &frank_bare).then_some(()));
    // Approving Frank's request sends him Erin's current presence (RFC 6121 §3.1.5).
    let (mut both, mut available) = (false, false);
    wait_until(&mut *frank, WAIT, |e| {
        both |= mutual(e, &erin_bare);
        available |= presence_of(e).is_some_and(|p| {
            p.kind() == PresenceType::Available && p.from().is_some_and(|f| f == erin_full)
        });
        both && available
    });

    // Erin's initial presence is out, so her logout withdraws it before the stream ends.
    assert!(call(&mut *erin, |c, _| Ok(c.is_available())));
    assert_eq!(erin.close().expect("logout"), CloseReason::Local);
    let gone = wait_for(&mut *frank, WAIT, |e| {
        presence_of(e)
            .filter(|p| {
                p.kind() != PresenceType::Available && p.from().is_some_and(|f| f == erin_full)
            })
            .map(|p| p.kind())
    });
    assert_eq!(gone, PresenceType::Unavailable);
    assert_eq!(frank.close().expect("logout"), CloseReason::Local);
}

fn roster_set_update_remove(ctx: &Ctx<'_>) {
    // Two resources of one account: the one that edits, and one that only watches.
    let mut editor = ctx.login("grace", ctx.config());
    let mut watcher = ctx.login("grace", ctx.config());
    let contact = ctx.bare("bob");

    // Each change is answered to the editor and pushed to the watcher, one push each.
    let mut change = |item: Option<RosterItem>| -> RosterItem {
        let jid = contact.clone();
        let id = call(&mut *editor, move |c, now| match &item {
            Some(item) => c.roster_set(now, item),
            None => c.roster_remove(now, &jid),
        });
        let outcome = iq_outcome(&mut *editor, id);
        assert!(matches!(outcome, IqEvent::Result { .. }), "{outcome:?}");
        let pushed = wait_for(&mut *watcher, WAIT, push_of);
        assert_eq!(pushed.items.len(), 1, "{pushed:?}");
        pushed.items[0].clone()
    };

    let added = change(Some(
        RosterItem::new(contact.clone())
            .with_name("Bob")
            .with_group("Friends"),
    ));
    assert_eq!(added.jid, contact);
    assert_eq!(added.name.as_deref(), Some("Bob"));
    assert_eq!(added.groups, ["Friends"]);
    assert_eq!(added.subscription, Subscription::None);

    let updated = change(Some(
        RosterItem::new(contact.clone())
            .with_name("Robert")
            .with_group("Chess")
            .with_group("Work"),
    ));
    assert_eq!(updated.jid, contact);
    assert_eq!(updated.name.as_deref(), Some("Robert"));
    let mut groups = updated.groups.clone();
    groups.sort();
    assert_eq!(groups, ["Chess", "Work"]);

    let removed = change(None);
    assert_eq!(removed.jid, contact);
    assert_eq!(removed.subscription, Subscription::Remove);

    // A new session's roster no longer has the contact.
    let (third, me) = ctx.login_with(ctx.server, creds(&ctx.user("grace")), ctx.config());
    let roster = me.roster.expect("the roster was fetched");
    assert!(roster.items.iter().all(|i| i.jid != contact), "{roster:?}");
    for session in [editor, watcher, third] {
        assert_eq!(session.close().expect("logout"), CloseReason::Local);
    }
}

fn replaced_session(ctx: &Ctx<'_>) {
    // The same full JID logging in again replaces the first session, which hears why.
    let same = Credentials::new(&ctx.user("carol"), PASSWORD, "only-one");
    let (mut first, _) = ctx.login_with(ctx.server, same.clone(), ctx.config());
    let (second, _) = ctx.login_with(ctx.server, same, ctx.config());
    let reason = wait_for(&mut *first, WAIT, closed_reason);
    let CloseReason::StreamError(e) = reason else {
        panic!("expected a stream error, got {reason}")
    };
    assert_eq!(e.condition, StreamCondition::Conflict, "{e}");
    assert!(e.text.is_some(), "the server says why: {e}");
    assert_eq!(second.close().expect("logout"), CloseReason::Local);
}

fn keepalive_across_idle_period(ctx: &Ctx<'_>) {
    // Our idle timer 1 s and dead-peer timer 2 s; the servers' idle timers are 3 s (see
    // the harness): ejabberd pings a client silent for 3 s, too late to keep our
    // dead-peer timer quiet. Idle for 8 s: only our own probes (after 1 s without input,
    // answered by the server) keep the session, and they run only if the adapter fires
    // the core's timers; the servers' idle timers must not end it either.
    let mut config = ctx.config();
    config.keepalive_interval = Some(Duration::from_secs(1));
    config.dead_peer_timeout = Some(Duration::from_secs(2));
    let mut session = ctx.login("carol", config);
    let me = full_jid(&mut *session);
    let until = Instant::now() + Duration::from_secs(8);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match session
            .next_event(left)
            .expect("no transport error while idle")
        {
            Next::Event(Event::Closed(r)) => panic!("the idle session died: {r}"),
            Next::Ended => panic!("the idle session ended"),
            _ => {}
        }
    }
    // The timers ran: no deadline of the core is overdue, and the session is open.
    let (overdue, closed) = call(&mut *session, |client, now| {
        let overdue = client
            .poll_timeout()
            .map(|at| now.saturating_duration_since(at));
        Ok((overdue.unwrap_or_default(), client.is_closed()))
    });
    assert!(
        overdue < Duration::from_millis(500),
        "a deadline of the core is {overdue:?} overdue"
    );
    assert!(!closed);
    session.send(chat(&me, "still here")).expect("send");
    assert_eq!(wait_for(&mut *session, WAIT, body_of), "still here");
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}

fn frozen_server(ctx: &Ctx<'_>) {
    let own = ctx.take_spare();
    let mut c = ctx.config();
    c.keepalive_interval = Some(Duration::from_secs(1));
    c.dead_peer_timeout = Some(Duration::from_secs(3));
    let (mut session, _) = ctx.login_with(&own, creds("dave"), c);
    // SIGSTOP: the socket stays open, nothing comes back — no FIN to notice.
    own.pause();
    let t = Instant::now();
    let reason = wait_for(&mut *session, WAIT, closed_reason);
    let took = t.elapsed();
    own.resume();
    // Healthy again: the killed-server scenario may use it.
    *ctx.spare.borrow_mut() = Some(own);
    assert_eq!(reason, CloseReason::PeerTimeout);
    assert!(
        took <= Duration::from_millis(4_500),
        "dead peer noticed after {took:?}, limit 3 s after the last byte"
    );
}

fn killed_server(ctx: &Ctx<'_>) {
    let mut own = ctx.take_spare();
    let mut config = ctx.config();
    // Far beyond what the kernel needs: noticing must come from the connection's end,
    // not from the dead-peer timer.
    config.dead_peer_timeout = Some(Duration::from_secs(30));
    let (mut session, _) = ctx.login_with(&own, creds("dave"), config);
    own.kill();
    let took = scenario::await_killed_server(&mut *session);
    assert!(took < Duration::from_secs(3), "took {took:?}");
    // Over: nothing more comes — the end, or (when the kill showed as a reset, which
    // over TLS it sometimes does) that error again, sticky.
    let after = session.next_event(Duration::ZERO);
    let sticky_reset =
        matches!(&after, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset);
    assert!(
        matches!(after, Ok(Next::Ended)) || sticky_reset,
        "{after:?}"
    );
}

fn logout(ctx: &Ctx<'_>) {
    let session = ctx.login("bob", ctx.config());
    // Local: the server answered our stream end with its own within the close timeout;
    // anything else (LocalTimeout, EndOfInput) fails.
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}
