//! What a message carries beyond its body, read on demand: every getter here reads the
//! element when called and costs nothing otherwise, so a client that never asks pays
//! nothing per message.

use alloc::borrow::Cow;
use core::time::Duration;

use super::delay::Delay;
use super::ext::{self, ChatState, Extension, MessageEvents, Receipt};
use super::{Message, Presence};
use crate::ns;
use crate::time::Timestamp;
use crate::xml::{BuildError, Element, ElementRef};

impl Message {
    /// When the message was first sent, if a server delayed it (offline storage): the
    /// `urn:xmpp:delay` stamp, else the `jabber:x:delay` one.
    pub fn delay(&self) -> Option<Delay> {
        Delay::of_stanza(self.element().root())
    }

    /// The first child that reads as `T`.
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    /// use jabber_proto::stanza::Message;
    /// use jabber_proto::stanza::ext::Oob;
    /// let to = Jid::parse("juliet@example.com")?;
    /// let oob = Oob { url: "https://example.com/balcony.jpg".into(), desc: None };
    /// let m = Message::normal(&to).body("look").extension(&oob).build()?;
    /// assert_eq!(m.extension::<Oob>(), Some(oob));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extension<T: Extension>(&self) -> Option<T> {
        self.element().root().children().find_map(T::from_child)
    }

    /// Every child that reads as `T`, in document order.
    pub fn extensions<T: Extension + 'static>(&self) -> impl Iterator<Item = T> + '_ {
        self.element().root().children().filter_map(T::from_child)
    }

    /// Children this crate does not read (not in `jabber:client`, not a delay stamp nor
    /// one of [`ext`]'s payloads), untouched.
    pub fn unknown_children(&self) -> impl Iterator<Item = ElementRef<'_>> + '_ {
        unknown_children(self.element().root())
    }

    /// The chat state (XEP-0085), if any.
    pub fn chat_state(&self) -> Option<ChatState> {
        self.extension()
    }

    /// A receipt request or receipt (XEP-0184), if any.
    pub fn receipt(&self) -> Option<Receipt> {
        self.extension()
    }

    /// The `jabber:x:event` request or notice, if any.
    pub fn events(&self) -> Option<MessageEvents> {
        self.extension()
    }

    /// The action of a `/me` message (XEP-0245): the body after `/me `, for the client
    /// to show after the sender's name.
    pub fn me(&self) -> Option<Cow<'_, str>> {
        match self.body()? {
            Cow::Borrowed(b) => b.strip_prefix("/me ").map(Cow::Borrowed),
            Cow::Owned(b) => b
                .strip_prefix("/me ")
                .map(|a| Cow::Owned(alloc::string::String::from(a))),
        }
    }

    /// When the message expires (`jabber:x:expire`): its delay stamp (when it was first
    /// sent) plus its lifetime; without a stamp, the time the server says it stored it,
    /// else `received` (the message is fresh). `None` without `jabber:x:expire`.
    pub fn expires_at(&self, received: Timestamp) -> Option<Timestamp> {
        let expire: ext::Expire = self.extension()?;
        let sent = self
            .delay()
            .map(|d| d.stamp)
            .or_else(|| {
                let stored = i64::try_from(expire.stored?).ok()?;
                Timestamp::from_unix_millis(stored.checked_mul(1000)?)
            })
            .unwrap_or(received);
        Some(
            sent.checked_add(Duration::from_secs(u64::from(expire.seconds)))
                .unwrap_or(Timestamp::MAX),
        )
    }

    /// Whether the message had expired by `now` (UTC): [`expires_at`](Self::expires_at)
    /// is before `now`. A message with neither a delay stamp nor a `stored` time is
    /// fresh, so it has not expired.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at(now).is_some_and(|t| t < now)
    }
}

impl Presence {
    /// When the contact's presence last changed, if the server says (the
    /// `urn:xmpp:delay` stamp, else the `jabber:x:delay` one).
    pub fn delay(&self) -> Option<Delay> {
        Delay::of_stanza(self.element().root())
    }

    /// The first child that reads as `T` (for presence: [`ext::Signed`]).
    pub fn extension<T: Extension>(&self) -> Option<T> {
        self.element().root().children().find_map(T::from_child)
    }

    /// The `jabber:x:signed` signature, if any.
    pub fn signed(&self) -> Option<ext::Signed> {
        self.extension()
    }

    /// The same presence with `ext` appended: a `jabber:x:signed` signature over its
    /// status, say.
    ///
    /// ```
    /// use jabber_proto::stanza::Presence;
    /// use jabber_proto::stanza::ext::Signed;
    /// let p = Presence::available().status("online").build()?;
    /// let p = p.with_extension(&Signed { payload: "iQEVAwUBOz".into() })?;
    /// assert_eq!(
    ///     p.element().to_string(),
    ///     "<presence xmlns='jabber:client'><status>online</status>\
    ///      <x xmlns='jabber:x:signed'>iQEVAwUBOz</x></presence>"
    /// );
    /// # Ok::<(), jabber_proto::xml::BuildError>(())
    /// ```
    pub fn with_extension(self, ext: &impl Extension) -> Result<Presence, BuildError> {
        let kind = self.kind();
        let element = appended(self.element().root(), ext)?;
        Ok(Presence::from_parts(element, kind))
    }
}

/// A copy of the stanza `root` with `ext` as its last child.
fn appended(root: ElementRef<'_>, ext: &impl Extension) -> Result<Element, BuildError> {
    let mut b = Element::builder(root.name(), root.ns());
    for a in root.attrs() {
        b = if a.ns.is_empty() {
            b.attr(a.name, a.value)
        } else {
            b.attr_ns(a.name, a.ns, a.value)
        };
    }
    // Text directly inside a stanza is only white space between children.
    b.children(root.children()).child(ext.to_element()?).build()
}

fn unknown_children(root: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> + '_ {
    root.children()
        .filter(|c| c.ns() != ns::CLIENT && !ext::KNOWN.contains(&c.ns()))
}
