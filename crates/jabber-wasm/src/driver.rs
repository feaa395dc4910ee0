//! The browser runtime without the browser: the core between a WebSocket's callbacks and
//! the page, as a sans-IO value of its own.
//!
//! The browser glue (`browser/`) only translates: a socket callback or a page command
//! becomes one call here, then it performs the [`Action`]s this returns (send a
//! message, tell the page, close the socket) and re-arms its one timer from
//! [`Driver::deadline`]. Every decision — when the socket may be written, what the page
//! is told, when the socket is done — is made here, where native tests reach it.

use std::fmt;
use std::num::NonZeroU64;

use jabber_proto::client::{Client, Config, Error};
use jabber_proto::jid::{Jid, JidError};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType, Presence, Show};
use jabber_proto::time::Instant;
use jabber_proto::xml::BuildError;

use crate::notice::Notice;
use crate::options::{Options, OptionsError};

/// The WebSocket subprotocol of XMPP (RFC 7395 §3.1), which the glue asks for.
pub const SUBPROTOCOL: &str = "xmpp";

/// What the glue does after a call, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send one WebSocket text message (RFC 7395: one element per message).
    Send(String),
    /// Hand this record to the page's callback.
    Notify(Notice),
    /// Close the WebSocket: the session is over and everything was sent.
    CloseSocket,
}

/// Why a page command was refused; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// The address given is not a JID.
    Jid(JidError),
    /// The text cannot be carried by XML.
    Build(BuildError),
    /// `setPresence` with a show other than `''`, `away`, `chat`, `dnd`, `xa` or
    /// `unavailable`.
    Show(String),
    /// The core refused it (not logged in yet, closed, ...).
    Client(Error),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Jid(e) => write!(f, "not an address: {e}"),
            CommandError::Build(e) => write!(f, "cannot be sent: {e}"),
            CommandError::Show(s) => write!(
                f,
                "unknown show {s:?} (expected '', away, chat, dnd, xa or unavailable)"
            ),
            CommandError::Client(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        CommandError::Client(e)
    }
}

impl From<BuildError> for CommandError {
    fn from(e: BuildError) -> Self {
        CommandError::Build(e)
    }
}

impl From<JidError> for CommandError {
    fn from(e: JidError) -> Self {
        CommandError::Jid(e)
    }
}

/// One session: the core, whether the socket is open, and what waits for the glue.
#[derive(Debug)]
pub struct Driver {
    client: Client,
    /// The socket is open: messages may be sent. Until then they wait in the core.
    open: bool,
    /// The socket is closed (by either side): nothing more is sent or received.
    gone: bool,
    /// [`Action::CloseSocket`] was given.
    closing: bool,
    actions: Vec<Action>,
}

impl Driver {
    /// A session for `options`, logging in as soon as the server's stream opens. `seed`
    /// makes the session's ids; `now` is the page's clock.
    pub fn new(options: &Options, seed: NonZeroU64, now: Instant) -> Result<Driver, OptionsError> {
        let (config, credentials, _) = options.session(seed)?;
        Ok(Driver::start(config, credentials, now))
    }

    /// A session with this configuration, logging in with `credentials`: what
    /// [`new`](Self::new) does once it has read the options.
    pub fn start(config: Config, credentials: Credentials, now: Instant) -> Driver {
        let mut client = Client::new(config, now);
        // The login waits for the server's stream: it may come before the socket opens.
        let login = client.login(now, credentials);
        let mut driver = Driver {
            client,
            open: false,
            gone: false,
            closing: false,
            actions: Vec::new(),
        };
        if let Err(e) = login {
            // Credentials that make no address: reported like a refused login.
            driver.actions.push(Action::Notify(Notice::LoginFailed {
                error: e.to_string(),
            }));
            driver.client.close(now);
        }
        driver.settle();
        driver
    }

    /// The core, to read (`jid()`, `roster()`, `presence()`, ...).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs `f` on the core (any command the page has no method for), then drains.
    pub fn command<R>(&mut self, now: Instant, f: impl FnOnce(&mut Client, Instant) -> R) -> R {
        let r = f(&mut self.client, now);
        self.settle();
        r
    }

    /// The socket is open (`onopen`): what the core queued goes out now.
    pub fn on_open(&mut self) {
        self.open = !self.gone;
        self.settle();
    }

    /// The socket is open (`onopen`) with the subprotocol the server agreed to
    /// (`WebSocket.protocol`): [`on_open`](Self::on_open) when it is `xmpp`. Anything
    /// else (a server that ignored the request answers `""`) is no XMPP endpoint
    /// (RFC 7395 §3.1): the page is told why, the session ends as a reset and the
    /// socket is closed, before anything is sent.
    pub fn on_open_with(&mut self, now: Instant, protocol: &str) {
        if protocol == SUBPROTOCOL || self.gone {
            return self.on_open();
        }
        self.actions.push(Action::Notify(Notice::Error {
            from: None,
            error: format!(
                "the server did not agree to the xmpp subprotocol (it chose {protocol:?})"
            ),
        }));
        self.on_close(now, false);
        self.actions.push(Action::CloseSocket);
    }

    /// One WebSocket message arrived (`onmessage`), text or binary, as bytes.
    pub fn on_message(&mut self, now: Instant, message: &[u8]) {
        if self.gone {
            return;
        }
        // Refused only while events wait undrained. Every call here ends with them all
        // drained (one message is one element: far fewer events than the bound), so
        // this does not happen; were it to, the message is not lost: the events become
        // notices, and the message is handed over again to an empty queue.
        if let Err(Error::EventQueueFull) = self.client.handle_input(now, message) {
            self.settle();
            let retried = self.client.handle_input(now, message);
            debug_assert!(retried.is_ok(), "refused with an empty event queue");
        }
        self.settle();
    }

    /// The socket closed (`onclose`). `clean`: the closing handshake completed
    /// (`CloseEvent.wasClean`), which is the end of the server's input; otherwise the
    /// connection broke (or never opened), a reset.
    pub fn on_close(&mut self, now: Instant, clean: bool) {
        if self.gone {
            return;
        }
        self.gone = true;
        self.open = false;
        if clean {
            self.client.handle_eof(now);
        } else {
            self.client.handle_reset(now);
        }
        // Nothing more can be sent: what the core still holds is dropped with it.
        self.closing = true;
        self.settle();
    }

    /// The timer armed from [`deadline`](Self::deadline) fired.
    pub fn on_timer(&mut self, now: Instant) {
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.settle();
    }

    /// When to call [`on_timer`](Self::on_timer) next, if ever: the core's deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    /// Whether the session is over and the socket closed or being closed.
    pub fn is_done(&self) -> bool {
        self.client.is_closed() && (self.gone || self.closing)
    }

    /// What the glue must do now, in order; empty until the next call.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Sends a chat message with `body` to `to`.
    pub fn send_message(&mut self, now: Instant, to: &str, body: &str) -> Result<(), CommandError> {
        let to = Jid::parse(to)?;
        let message = Message::new(MessageType::Chat, &to, body)?;
        self.command(now, |c, now| c.send(now, message))?;
        Ok(())
    }

    /// Broadcasts our presence: `show` is `''` (available), `away`, `chat`, `dnd`, `xa`,
    /// or `unavailable` (offline while connected); `status` is its text.
    pub fn set_presence(
        &mut self,
        now: Instant,
        show: &str,
        status: Option<&str>,
    ) -> Result<(), CommandError> {
        let mut builder = match show {
            "unavailable" => Presence::unavailable(),
            "" => Presence::available(),
            other => match Show::from_name(other) {
                Some(show) => Presence::available().show(show),
                None => return Err(CommandError::Show(other.into())),
            },
        };
        if let Some(status) = status.filter(|s| !s.is_empty()) {
            builder = builder.status(status);
        }
        let presence = builder.build()?;
        self.command(now, |c, now| c.send_presence(now, &presence))?;
        Ok(())
    }

    /// Asks to see `contact`'s presence (it is added to the roster by the server).
    pub fn subscribe(&mut self, now: Instant, contact: &str) -> Result<(), CommandError> {
        let contact = Jid::parse(contact)?;
        self.command(now, |c, now| c.subscribe(now, &contact))?;
        Ok(())
    }

    /// Lets `contact` see our presence (an answer to its `request`).
    pub fn approve(&mut self, now: Instant, contact: &str) -> Result<(), CommandError> {
        let contact = Jid::parse(contact)?;
        self.command(now, |c, now| c.approve_subscription(now, &contact))?;
        Ok(())
    }

    /// Logs out: our presence is withdrawn, the stream closed; `closed` follows once
    /// the server closed its side (or the close timed out).
    pub fn close(&mut self, now: Instant) {
        self.command(now, |c, now| c.close(now));
    }

    /// The drain rule, once per call: events become notices, then the messages to
    /// send, then whether the socket is done.
    fn settle(&mut self) {
        while let Some(event) = self.client.poll_event() {
            let notices = Notice::from_event(&event, &self.client);
            self.actions.extend(notices.into_iter().map(Action::Notify));
        }
        if self.open {
            while let Some(bytes) = self.client.take_transmit() {
                // The core writes UTF-8 only; a lossy copy could never differ.
                let text = String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                self.actions.push(Action::Send(text));
            }
        }
        // Done: finished (closed, all sent), or closed before the socket ever opened.
        let done = self.client.is_finished() || (self.client.is_closed() && !self.open);
        if done && !self.closing && !self.gone {
            self.closing = true;
            self.actions.push(Action::CloseSocket);
        }
    }
}
