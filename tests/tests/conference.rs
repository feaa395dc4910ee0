//! Conferences (§7) on ejabberd and prosody through the blocking adapter (`jabber-std`):
//! the conference service found by service discovery; two accounts in a MUC room
//! (created as an instant room) seeing each other's messages, a nickname change, a
//! private message, a mediated invitation accepted and one declined, a direct
//! invitation, leaving; groupchat 1.0 (ejabberd takes it, prosody refuses it, typed);
//! XEP-0410 self-ping saying we are in, then finding a room that forgot us and
//! rejoining it (ejabberd, whose room process is killed); and a server restart while
//! joined: the new session reports the room dropped and rejoins it.
//!
//! One test per server: it starts the server, takes the accounts, and runs the
//! scenarios one after the other.

use std::time::{Duration, Instant};

use jabber_net::{Options, Tls};
use jabber_proto::client::{Client, ConferenceEvent, Config, DiscoEvent, Event, IqId};
use jabber_proto::console::Direction;
use jabber_proto::features::conference::{
    DropReason, InviteKind, JoinOptions, Protocol, RoomState, emote, me,
};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::StanzaCondition;
use jabber_proto::stanza::ext::Invitation;
use jabber_std::{Connection, Next};
use jabber_tests::{Server, ServerKind, TestCa};

const PASSWORD: &str = "muc-secret";
const WAIT: Duration = Duration::from_secs(15);
const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

struct Ctx {
    server: Server,
}

impl Ctx {
    fn start(kind: ServerKind) -> Ctx {
        let server = Server::start(kind).unwrap_or_else(|e| panic!("{kind:?} starts: {e}"));
        for user in USERS {
            server.register(user, PASSWORD).expect("an account");
        }
        Ctx { server }
    }

    fn service(&self) -> Jid {
        jid(&format!("conference.{}", self.server.domain()))
    }

    fn room(&self, name: &str) -> Jid {
        jid(&format!("{name}@conference.{}", self.server.domain()))
    }

    fn bare(&self, user: &str) -> Jid {
        jid(&format!("{user}@{}", self.server.domain()))
    }

    fn config(&self) -> Config {
        let mut c = Config::new(self.server.domain(), jabber_net::fresh_seed());
        c.iq_timeout = Duration::from_secs(20);
        c
    }

    /// Logged in over STARTTLS (XMPP 1.0, stream management on).
    fn login_with(&self, user: &str, config: Config) -> Connection {
        let mut conn =
            Connection::connect_with(self.server.addr(), config, Options::starttls(test_tls()))
                .expect("connect");
        conn.login(Credentials::new(user, PASSWORD, "muc"))
            .unwrap_or_else(|e| panic!("{}: login as {user}: {e}", self.server.kind().name()));
        conn
    }

    fn login(&self, user: &str) -> Connection {
        self.login_with(user, self.config())
    }
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a JID")
}

/// Runs a command on `conn`'s core.
fn cmd<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Client, jabber_proto::time::Instant) -> Result<T, jabber_proto::client::Error>,
) -> T {
    conn.with_client(f)
        .expect("connection alive")
        .expect("command taken")
}

/// Waits for an event that `pick` accepts; others are dropped (and listed if none
/// comes).
fn wait_event<T>(
    conn: &mut Connection,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("transport") {
            Next::Event(e) => {
                if let Some(t) = pick(&e) {
                    return t;
                }
                seen.push(format!("{e:?}"));
            }
            other => panic!("no {what}: {other:?}; saw {seen:#?}"),
        }
    }
}

/// Waits for a conference event that `pick` accepts.
fn wait<T>(
    conn: &mut Connection,
    what: &str,
    mut pick: impl FnMut(&ConferenceEvent) -> Option<T>,
) -> T {
    wait_event(conn, what, |e| match e {
        Event::Conference(c) => pick(c),
        _ => None,
    })
}

/// Joins `room` as `nick` and waits until in; returns whether the join created it.
fn join(conn: &mut Connection, room: &Jid, nick: &str, options: JoinOptions) -> bool {
    cmd(conn, |c, now| c.join_room(now, room, nick, options));
    let created = wait(conn, "joined", |e| match e {
        ConferenceEvent::Joined {
            room: r, created, ..
        } if r == room => Some(*created),
        ConferenceEvent::Error { error, .. } => panic!("join refused: {error:?}"),
        _ => None,
    });
    if created {
        wait(conn, "configured", |e| {
            matches!(e, ConferenceEvent::Configured { room: r } if r == room).then_some(())
        });
    }
    created
}

/// The conference service, found by disco#items on the domain then disco#info of
/// each item (identity category `conference`).
fn finds_the_conference_service(ctx: &Ctx) {
    let mut a = ctx.login("alice");
    let domain = jid(ctx.server.domain());
    let id: IqId = cmd(&mut a, |c, now| c.disco_items(now, &domain, None));
    let items = wait_event(&mut a, "disco items", |e| match e {
        Event::Disco(DiscoEvent::Items { id: got, items }) if *got == id => Some(items.clone()),
        _ => None,
    });
    let mut services = Vec::new();
    for item in &items.items {
        let id = cmd(&mut a, |c, now| c.disco_info(now, &item.jid, None));
        let info = wait_event(&mut a, "disco info", |e| match e {
            Event::Disco(DiscoEvent::Info { id: got, info }) if *got == id => {
                Some(Some(info.clone()))
            }
            Event::Disco(DiscoEvent::Failed { id: got, .. }) if *got == id => Some(None),
            _ => None,
        });
        if info.is_some_and(|i| i.identities.iter().any(|i| i.category == "conference")) {
            services.push(item.jid.clone());
        }
    }
    assert_eq!(services, [ctx.service()], "{}", ctx.server.kind().name());
    a.close().expect("closed");
}

/// Two accounts in a room, messages both ways, a nick change, a private message,
/// invitations (mediated accepted and declined, direct), leaving.
fn a_room_between_two_accounts(ctx: &Ctx) {
    let room = ctx.room("coven");
    let mut a = ctx.login("alice");
    let mut b = ctx.login("bob");
    assert!(
        join(&mut a, &room, "alice", JoinOptions::default()),
        "a new room"
    );
    assert!(!join(&mut b, &room, "bob", JoinOptions::default()));
    wait(&mut a, "bob joining", |e| match e {
        ConferenceEvent::OccupantJoined { occupant, .. } if occupant.nick == "bob" => Some(()),
        _ => None,
    });
    let view = b.client().room(&room).expect("bob's room");
    let nicks: Vec<String> = view.occupants().map(|o| o.nick.clone()).collect();
    assert_eq!(nicks, ["alice", "bob"]);

    // Messages both ways (and /me).
    cmd(&mut a, |c, now| c.send_groupchat(now, &room, "hello coven"));
    let body = wait(&mut b, "alice's message", |e| match e {
        ConferenceEvent::Message { nick, message, .. } if nick == "alice" => {
            message.body().map(String::from)
        }
        _ => None,
    });
    assert_eq!(body, "hello coven");
    cmd(&mut b, |c, now| c.send_groupchat(now, &room, &me("stirs")));
    let shown = wait(&mut a, "bob's action", |e| match e {
        ConferenceEvent::Message { nick, message, .. } if nick == "bob" => {
            message.body().and_then(|b| emote(nick, &b))
        }
        _ => None,
    });
    assert_eq!(shown, "bob stirs");

    // Bob becomes robert.
    cmd(&mut b, |c, now| c.change_nick(now, &room, "robert"));
    wait(&mut b, "own nick change", |e| match e {
        ConferenceEvent::NickChanged { new, own: true, .. } if new == "robert" => Some(()),
        _ => None,
    });
    wait(&mut a, "bob's nick change", |e| match e {
        ConferenceEvent::NickChanged {
            old,
            new,
            own: false,
            ..
        } if old == "bob" && new == "robert" => Some(()),
        _ => None,
    });
    assert_eq!(
        b.client()
            .room(&room)
            .map(|r| r.nick().to_owned())
            .as_deref(),
        Some("robert")
    );

    // A private message.
    cmd(&mut a, |c, now| {
        c.send_private(now, &room, "robert", "psst")
    });
    let body = wait(&mut b, "private message", |e| match e {
        ConferenceEvent::PrivateMessage { nick, message, .. } if nick == "alice" => {
            message.body().map(String::from)
        }
        _ => None,
    });
    assert_eq!(body, "psst");

    // A mediated invitation carol accepts.
    let mut carol = ctx.login("carol");
    cmd(&mut a, |c, now| {
        c.invite(now, &room, &ctx.bare("carol"), Some("join us"))
    });
    let invite = wait(&mut carol, "invitation", |e| match e {
        ConferenceEvent::Invited(i) => Some(i.clone()),
        _ => None,
    });
    assert_eq!(invite.kind, InviteKind::Mediated);
    assert_eq!(invite.room, room);
    // The inviter: alice's real address, or (prosody, a room that hides real
    // addresses) her occupant address.
    let inviter = invite.from.as_ref().map(Jid::to_bare);
    assert!(
        inviter == Some(ctx.bare("alice")) || inviter == Some(room.clone()),
        "{inviter:?}"
    );
    join(&mut carol, &invite.room, "carol", JoinOptions::default());
    wait(&mut a, "carol joining", |e| match e {
        ConferenceEvent::OccupantJoined { occupant, .. } if occupant.nick == "carol" => Some(()),
        _ => None,
    });

    // One dave declines.
    let mut dave = ctx.login("dave");
    cmd(&mut a, |c, now| {
        c.invite(now, &room, &ctx.bare("dave"), None)
    });
    let invite = wait(&mut dave, "invitation", |e| match e {
        ConferenceEvent::Invited(i) => Some(i.clone()),
        _ => None,
    });
    let inviter = invite.from.clone().expect("the room names the inviter");
    cmd(&mut dave, |c, now| {
        c.decline_invite(now, &invite.room, &inviter, Some("busy"))
    });
    let decline = wait(&mut a, "decline", |e| match e {
        ConferenceEvent::Declined(d) => Some(d.clone()),
        _ => None,
    });
    assert_eq!(decline.room, room);
    assert_eq!(
        decline.from.as_ref().map(Jid::to_bare),
        Some(ctx.bare("dave"))
    );
    assert_eq!(decline.reason.as_deref(), Some("busy"));

    // A direct invitation (XEP-0249) to erin.
    let mut erin = ctx.login("erin");
    cmd(&mut a, |c, now| {
        c.invite_direct(now, &ctx.bare("erin"), &Invitation::new(&room))
    });
    let invite = wait(&mut erin, "direct invitation", |e| match e {
        ConferenceEvent::Invited(i) => Some(i.clone()),
        _ => None,
    });
    assert_eq!((invite.kind, &invite.room), (InviteKind::Direct, &room));
    assert_eq!(
        invite.from.as_ref().map(Jid::to_bare),
        Some(ctx.bare("alice"))
    );

    // Robert leaves.
    cmd(&mut b, |c, now| c.leave_room(now, &room, Some("bye")));
    wait(&mut b, "left", |e| {
        matches!(e, ConferenceEvent::Left { .. }).then_some(())
    });
    assert!(b.client().room(&room).is_none());
    wait(&mut a, "robert leaving", |e| match e {
        ConferenceEvent::OccupantLeft { occupant, .. } if occupant.nick == "robert" => Some(()),
        _ => None,
    });
    for conn in [a, b, carol, dave, erin] {
        conn.close().expect("closed");
    }
}

/// Groupchat 1.0: ejabberd lets us in; prosody 0.12 wants MUC's `<x/>`.
fn groupchat_1_0(ctx: &Ctx) {
    let room = ctx.room("oldschool");
    let mut a = ctx.login("alice");
    let options = JoinOptions::default().protocol(Protocol::Groupchat);
    cmd(&mut a, |c, now| c.join_room(now, &room, "alice", options));
    let outcome = wait(&mut a, "join outcome", |e| match e {
        ConferenceEvent::Joined { .. } => Some(Ok(())),
        ConferenceEvent::Error { error, .. } => Some(Err(error.condition)),
        _ => None,
    });
    match ctx.server.kind() {
        ServerKind::Ejabberd => assert_eq!(outcome, Ok(())),
        ServerKind::Prosody => assert_eq!(outcome, Err(StanzaCondition::ItemNotFound)),
    }
    a.close().expect("closed");
}

/// Self-ping (XEP-0410) every second: while we are in the room it says so (no drop
/// in three seconds of pings); on ejabberd the room's process then dies and comes back
/// without us, and the next self-ping notices.
fn self_ping(ctx: &Ctx) {
    let room = ctx.room("schroedinger");
    let mut config = ctx.config();
    config.conference.self_ping_secs = 1;
    // To see the pings and their answers.
    config.console = true;
    config.console_max_bytes = 64 * 1024;
    let mut a = ctx.login_with("alice", config);
    join(&mut a, &room, "alice", JoinOptions::default());
    let quiet_until = Instant::now() + Duration::from_secs(3);
    loop {
        let left = quiet_until.saturating_duration_since(Instant::now());
        match a.next_event_timeout(left).expect("transport") {
            Next::Event(Event::Conference(ConferenceEvent::Dropped { reason, .. })) => {
                panic!("dropped while in the room: {reason:?}")
            }
            Next::Event(_) => {}
            Next::TimedOut => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        a.client().room(&room).map(|r| r.state()),
        Some(RoomState::Joined)
    );
    // The quiet was the pings' answers, not their absence: one went out and the room
    // answered it from our occupant address.
    let console: Vec<_> = a
        .with_client(|c, _| std::iter::from_fn(|| c.poll_console()).collect())
        .expect("transport");
    let occupant = format!("{}/alice", room.as_str());
    let pings: Vec<String> = console
        .iter()
        .filter(|e| {
            e.direction == Direction::Out && e.xml.contains("<ping xmlns='urn:xmpp:ping'/>")
        })
        .filter(|e| e.xml.contains(&format!("to='{occupant}'")))
        .filter_map(|e| {
            e.xml
                .split("id='")
                .nth(1)?
                .split('\'')
                .next()
                .map(String::from)
        })
        .collect();
    assert!(!pings.is_empty(), "no self-ping in three seconds");
    let answered = console.iter().any(|e| {
        e.direction == Direction::In
            && e.xml.starts_with("<iq")
            && e.xml.contains(&format!("from='{occupant}'"))
            && pings.iter().any(|id| e.xml.contains(&format!("id='{id}'")))
    });
    assert!(answered, "no self-ping answered: {pings:?}");
    if ctx.server.kind() != ServerKind::Ejabberd {
        a.close().expect("closed");
        return;
    }
    ctx.server
        .kill_room("schroedinger", ctx.service().as_str())
        .expect("the room's process killed");
    let reason = wait(&mut a, "dropped", |e| match e {
        ConferenceEvent::Dropped { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    let DropReason::SelfPing(error) = reason else {
        panic!("{reason:?}");
    };
    assert_eq!(error.condition, StanzaCondition::NotAcceptable);
    assert_eq!(
        a.client().room(&room).map(|r| r.state()),
        Some(RoomState::Dropped)
    );
    cmd(&mut a, |c, now| c.rejoin_room(now, &room));
    wait(&mut a, "rejoined", |e| {
        matches!(e, ConferenceEvent::Joined { .. }).then_some(())
    });
    a.close().expect("closed");
}

/// The server restarts while alice and bob are in a room: alice's new session (a
/// resumption the restarted server refuses) reports the room dropped; she rejoins and
/// bob, back too, sees her message.
fn a_restart_while_joined(ctx: &mut Ctx) {
    let room = ctx.room("phoenix");
    let mut a = ctx.login("alice");
    join(&mut a, &room, "alice", JoinOptions::default());
    ctx.server.restart().expect("the server restarts");
    wait_event(&mut a, "the end of the connection", |e| {
        matches!(e, Event::Closed(_)).then_some(())
    });
    let carried = a.client().carried_rooms();
    let resumption = a.client().resumption();
    assert_eq!(carried.len(), 1);
    let mut a2 = Connection::connect_with(
        ctx.server.addr(),
        ctx.config(),
        Options::starttls(test_tls()),
    )
    .expect("connect again");
    let creds = Credentials::new("alice", PASSWORD, "muc");
    println!(
        "{}: after the restart, {}",
        ctx.server.kind().name(),
        if resumption.is_some() {
            "a resumption the server refuses"
        } else {
            "a plain login with the rooms carried (the server closed in order)"
        }
    );
    match resumption {
        // The restarted server has forgotten the session: a new one follows.
        Some(r) => {
            a2.resume(creds, r).expect("a new session");
        }
        None => {
            cmd(&mut a2, |c, now| c.carry_rooms(now, carried));
            a2.login(creds).expect("a new session");
        }
    }
    wait(&mut a2, "dropped", |e| match e {
        ConferenceEvent::Dropped {
            reason: DropReason::NewSession,
            room: r,
        } if *r == room => Some(()),
        _ => None,
    });
    cmd(&mut a2, |c, now| c.rejoin_room(now, &room));
    wait(&mut a2, "rejoined", |e| {
        matches!(e, ConferenceEvent::Joined { .. }).then_some(())
    });
    let mut b = ctx.login("bob");
    join(&mut b, &room, "bob", JoinOptions::default());
    cmd(&mut a2, |c, now| c.send_groupchat(now, &room, "back"));
    wait(&mut b, "alice's message", |e| match e {
        ConferenceEvent::Message { nick, message, .. }
            if nick == "alice" && message.body().as_deref() == Some("back") =>
        {
            Some(())
        }
        _ => None,
    });
    a2.close().expect("closed");
    b.close().expect("closed");
}

fn run(kind: ServerKind) {
    let mut ctx = Ctx::start(kind);
    finds_the_conference_service(&ctx);
    a_room_between_two_accounts(&ctx);
    groupchat_1_0(&ctx);
    self_ping(&ctx);
    a_restart_while_joined(&mut ctx);
}

#[test]
fn ejabberd() {
    run(ServerKind::Ejabberd);
}

#[test]
fn prosody() {
    run(ServerKind::Prosody);
}
