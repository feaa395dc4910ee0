//! The client's message commands: wall-clock time for expiry, and conversation threads.

use alloc::string::String;
use core::ops::BitOr;

use super::Client;
use crate::jid::Jid;
use crate::stanza::{Message, MessageBuilder};
use crate::time::{Instant, Timestamp};

impl Client {
    /// Tells the core the wall-clock time: `utc` is the current UTC at `now`. From then
    /// on a message whose `jabber:x:expire` lifetime has run out (counted from its delay
    /// stamp) is reported as [`StanzaEvent::ExpiredMessage`](super::StanzaEvent) instead
    /// of as a message. Call it once after [`Client::new`] (an adapter can, from
    /// `SystemTime`), and again when the wall clock is corrected; the core keeps only the
    /// offset to its own [`Instant`]s, so time moves on with every `now`.
    ///
    /// ```
    /// use core::num::NonZeroU64;
    /// use core::time::Duration;
    /// use jabber_proto::client::{Client, Config, Event, StanzaEvent};
    /// use jabber_proto::time::{Instant, Timestamp};
    ///
    /// let mut now = Instant::ZERO;
    /// let mut client = Client::new(Config::new("example.com", NonZeroU64::new(7).unwrap()), now);
    /// client.set_utc(now, Timestamp::parse("2026-12-03T12:00:00Z").unwrap());
    /// client.handle_input(now, b"<stream:stream xmlns='jabber:client' \
    ///     xmlns:stream='http://etherx.jabber.org/streams' id='s1'>").unwrap();
    /// // Stored at 11:00 with a lifetime of an hour: still fresh at 12:00 ...
    /// let stored = b"<message from='romeo@example.net/orchard'><body>by noon</body>\
    ///     <x xmlns='jabber:x:expire' seconds='3600'/>\
    ///     <delay xmlns='urn:xmpp:delay' stamp='2026-12-03T11:00:00Z'/></message>";
    /// client.handle_input(now, stored).unwrap();
    /// // ... expired a second later, on the core's own clock.
    /// now = now + Duration::from_secs(1);
    /// client.handle_input(now, stored).unwrap();
    /// let kinds: Vec<_> = core::iter::from_fn(|| client.poll_event())
    ///     .filter_map(|e| match e {
    ///         Event::Stanza(StanzaEvent::Message(_)) => Some("fresh"),
    ///         Event::Stanza(StanzaEvent::ExpiredMessage(_)) => Some("expired"),
    ///         _ => None,
    ///     })
    ///     .collect();
    /// assert_eq!(kinds, ["fresh", "expired"]);
    /// ```
    pub fn set_utc(&mut self, now: Instant, utc: Timestamp) {
        self.capture_command(now, || {
            super::capture::command("set-utc").attr("utc", &utc.to_xep0082())
        });
        self.cx.tick(now);
        self.messaging.set_utc(self.cx.now, utc);
    }

    /// The wall-clock time at `now`, as [`set_utc`](Self::set_utc) last said; `None`
    /// until it is called. Like every clock of the core it never runs backwards: a
    /// `now` earlier than one already seen counts as that one.
    pub fn utc(&self, now: Instant) -> Option<Timestamp> {
        self.messaging.utc(self.cx.now.max(now))
    }

    /// A fresh thread id for a new conversation (RFC 6121 §5.2.5): drawn from the
    /// connection's seeded id source (never the clock), unique among the ids this
    /// connection makes, and different between connections with different seeds.
    pub fn new_thread(&mut self) -> String {
        // It draws from the id source the IQs share: a replay must draw here too.
        let now = self.cx.now;
        self.capture_command(now, || super::capture::command("new-thread"));
        self.cx.iqs.fresh_token('t')
    }

    /// A chat message to `to` opening a new conversation: in a fresh thread
    /// ([`new_thread`](Self::new_thread)); replies keep it ([`Message::reply`]).
    ///
    /// ```
    /// use core::num::NonZeroU64;
    /// use jabber_proto::client::{Client, Config};
    /// use jabber_proto::jid::Jid;
    /// use jabber_proto::time::Instant;
    /// let mut client = Client::new(Config::new("example.com", NonZeroU64::new(7).unwrap()), Instant::ZERO);
    /// let juliet = Jid::parse("juliet@example.com")?;
    /// let m = client.new_conversation(&juliet).body("Hi!").build()?;
    /// assert_eq!(m.thread().as_deref(), Some("00000007t1"));
    /// let next = client.new_conversation(&juliet).build()?;
    /// assert_eq!(next.thread().as_deref(), Some("00000007t2"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new_conversation(&mut self, to: &Jid) -> MessageBuilder {
        let thread = self.new_thread();
        Message::chat(to).thread(&thread)
    }
}

/// Which requests in incoming messages the core answers on its own
/// ([`Config::auto_answers`](super::Config::auto_answers)); one byte, combined with `|`.
///
/// Each is answered for a message with a sender and an id, once logged in, at most once
/// per message, and never for an error message (errors are not answered), a groupchat
/// message (the room would broadcast the answer; XEP-0184 §5), an expired message (it
/// was not delivered) or a message that is itself an answer. Answering tells the
/// sender we are online: XEP-0184 §8 asks to answer only those allowed to see our
/// presence, so turn receipts on only where that is acceptable.
///
/// ```
/// use core::num::NonZeroU64;
/// use jabber_proto::client::{AutoAnswers, Config};
/// let mut config = Config::new("example.com", NonZeroU64::new(7).unwrap());
/// config.auto_answers = AutoAnswers::RECEIPTS | AutoAnswers::MESSAGE_EVENTS;
/// assert!(config.auto_answers.contains(AutoAnswers::RECEIPTS));
/// assert_eq!(config.auto_answers, AutoAnswers::ALL);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AutoAnswers(u8);

impl AutoAnswers {
    /// Nothing is answered automatically (the default).
    pub const NONE: AutoAnswers = AutoAnswers(0);
    /// `<request xmlns='urn:xmpp:receipts'/>` gets `<received/>` (XEP-0184).
    pub const RECEIPTS: AutoAnswers = AutoAnswers(1);
    /// A `jabber:x:event` request for "delivered" gets its notice (XEP-0022); "displayed"
    /// and "composing" are the application's to send
    /// ([`MessageEvents::notice`](crate::stanza::ext::MessageEvents::notice)).
    pub const MESSAGE_EVENTS: AutoAnswers = AutoAnswers(2);
    /// Both.
    pub const ALL: AutoAnswers = AutoAnswers(3);

    /// Whether every answer in `other` is in `self`.
    pub fn contains(self, other: AutoAnswers) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether nothing is answered.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for AutoAnswers {
    type Output = AutoAnswers;
    fn bitor(self, other: AutoAnswers) -> AutoAnswers {
        AutoAnswers(self.0 | other.0)
    }
}
