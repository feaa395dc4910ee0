//! A complete small runtime for the core (see `docs/porting.md`), of the kind games use:
//! one thread, one non-blocking `TcpStream`, a frame loop that never blocks: read, fire
//! due timers, handle events, write, sleep until the next frame or the core's deadline.
//!
//! `game_loop <addr> <domain> <user> <password> [<peer>]` logs in, messages itself (or
//! `peer`), prints the events and logs out once the message (or an answer) is back.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::num::NonZeroU64;
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use jabber_proto::client::{Client, CloseReason, Config, Event, SessionEvent, StanzaEvent};
use jabber_proto::stanza::{Message, MessageType};
use jabber_proto::{jid::Jid, negotiation::auth::Credentials, time::Instant};

/// One frame at about 60 frames per second.
const FRAME: Duration = Duration::from_millis(16);
/// How long the last bytes may take to leave once the connection is over.
const LINGER: Duration = Duration::from_secs(2);
const USAGE: &str = "usage: game_loop <addr> <domain> <user> <password> [<peer>]";
/// The message we send, and expect back when we send it to ourselves.
pub(crate) const TEXT: &str = "hello from the game loop";

/// What a run saw: our address (`None`: login failed), the message back, why it ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) jid: Option<Jid>,
    pub(crate) echo: Option<String>,
    pub(crate) reason: CloseReason,
}

/// Drives one connection to its end, messaging `peer` (`None`: ourselves). `Err` is a
/// socket failure or our own misuse; what the server did is in the [`Outcome`].
pub(crate) fn run(
    mut stream: TcpStream,
    config: Config,
    credentials: Credentials,
    peer: Option<Jid>,
) -> io::Result<Outcome> {
    stream.set_nonblocking(true)?;
    let origin = StdInstant::now();
    // The core's clock: milliseconds since `origin`, from a monotonic source.
    let now = || Instant::from_millis(origin.elapsed().as_millis() as u64);
    let mut client = Client::new(config, now());
    // A command may come before the stream is up; its bytes leave with this frame's writes.
    client.login(now(), credentials).map_err(io::Error::other)?;
    let (mut jid, mut to, mut echo, mut closed_at) = (None, None, None, None);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let frame = StdInstant::now();
        // 1. Input, in any pieces, while the core takes it (step 3 drains its events).
        loop {
            match client.wants_input().then(|| stream.read(&mut buf)) {
                None => break,
                Some(Ok(0)) => break client.handle_eof(now()), // the server closed
                Some(Ok(n)) => client.handle_input(now(), &buf[..n])?,
                Some(Err(e)) if e.kind() == ErrorKind::WouldBlock => break,
                Some(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Some(Err(_)) if client.is_closed() => break, // over anyway: just flush
                Some(Err(e)) => return Err(e),
            }
        }
        // 2. Timers: only when due (earlier would be harmless, but useless).
        if client.poll_timeout().is_some_and(|t| t <= now()) {
            client.handle_timeout(now());
        }
        // 3. Game logic: the events. Commands given here leave with step 4's writes.
        while let Some(event) = client.poll_event() {
            println!("{event:?}");
            match event {
                Event::Session(SessionEvent::Ready { jid: me, .. }) => {
                    let target = peer.clone().unwrap_or_else(|| me.to_bare());
                    let message = Message::new(MessageType::Chat, &target, TEXT);
                    client.send(now(), message.map_err(io::Error::other)?)?;
                    (jid, to) = (Some(me), Some(target.to_bare()));
                }
                Event::Stanza(StanzaEvent::Message(m))
                    if m.from()
                        .zip(to.as_ref())
                        .is_some_and(|(f, t)| f.bare() == *t) =>
                {
                    echo = m.body().map(|body| body.into_owned());
                    client.close(now()); // log out: Closed(Local) follows the server's close
                }
                _ => {}
            }
        }
        // 4. Output: what the socket takes now; the rest waits for the next frame.
        let wrote = flush(&mut stream, &mut client);
        if let Some(reason) = client.close_reason() {
            // Over: close the socket once finished; one that takes nothing gets LINGER.
            let since = *closed_at.get_or_insert(frame);
            if client.is_finished() || wrote.is_err() || since.elapsed() > LINGER {
                let _ = stream.shutdown(Shutdown::Both); // the peer may be gone already
                let reason = reason.clone();
                return Ok(Outcome { jid, echo, reason });
            }
        }
        wrote?;
        // 5. Sleep until the next frame or the core's deadline, whichever is earlier.
        let until_frame = (frame + FRAME).saturating_duration_since(StdInstant::now());
        let until_deadline = client.poll_timeout().map_or(FRAME, |t| t - now()); // saturates
        std::thread::sleep(until_frame.min(until_deadline));
    }
}

/// Writes what the socket takes without blocking; the rest stays in the core.
fn flush(stream: &mut TcpStream, client: &mut Client) -> io::Result<()> {
    while let Some(bytes) = client.poll_transmit() {
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => client.advance_transmit(n), // a partial write is fine
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let outcome = start(std::env::args().skip(1).collect());
    match &outcome {
        Ok(o) => eprintln!("game_loop: {o:?}"),
        Err(e) => eprintln!("game_loop: {e}"),
    }
    let clean = |o: &Outcome| o.jid.is_some() && o.echo.is_some() && o.reason == CloseReason::Local;
    ExitCode::from(u8::from(!outcome.as_ref().is_ok_and(clean)))
}

fn start(args: Vec<String>) -> io::Result<Outcome> {
    let (Some([addr, domain, user, password]), 4..=5) = (args.first_chunk(), args.len()) else {
        return Err(io::Error::other(USAGE));
    };
    let peer = args.get(4).map(|p| Jid::parse(p).map_err(io::Error::other));
    let peer = peer.transpose()?;
    // The core has no RNG: each connection needs a seed of its own (here: the clock).
    let clock = SystemTime::now().duration_since(UNIX_EPOCH);
    let seed = NonZeroU64::MIN.saturating_add(clock.map_or(0, |d| d.as_nanos() as u64));
    let mut config = Config::new(domain, seed);
    config.version = None; // a bare TcpStream has no STARTTLS: the classic login
    // A demo over loopback: a server without the digest (prosody) gets the password in
    // the clear. Never do this over a real network; use TLS (`transport_encrypted`).
    config.allow_plaintext = true;
    let credentials = Credentials::new(user, password, "game-loop");
    let stream = TcpStream::connect(addr.as_str())?;
    run(stream, config, credentials, peer)
}
