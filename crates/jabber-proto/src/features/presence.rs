//! Our own presence as a feature of the client: the initial presence after login, and
//! the unavailable presence owed at logout (RFC 6121 §4.5.1) when we had announced
//! ourselves available. The stanzas themselves are built with
//! [`Presence`](crate::stanza::Presence).

use crate::client::Cx;
use crate::ns;
use crate::stanza::Presence;
use crate::xml::Element;

/// The presence feature's state.
#[derive(Clone, Debug, Default)]
pub(crate) struct OwnPresence {
    /// We broadcast available presence and have not withdrawn it.
    available: bool,
}

impl OwnPresence {
    /// Whether our available presence is out (and unavailable presence is owed at
    /// logout).
    pub(crate) fn is_available(&self) -> bool {
        self.available
    }

    /// Sends the initial `<presence/>` after login.
    pub(crate) fn announce(&mut self, cx: &mut Cx) {
        if let Ok(presence) = Presence::available().build() {
            let el = Element::from(presence);
            // Our capabilities (XEP-0115), when advertised.
            let el = super::caps::with_our_caps(&cx.config, &el).unwrap_or(el);
            cx.emit(&el);
            self.on_sent(&el);
        }
    }

    /// Notes an element the application sent: a broadcast presence (no `to`) changes
    /// what we owe at logout; directed presence does not.
    pub(crate) fn on_sent(&mut self, el: &Element) {
        if !el.is("presence", ns::CLIENT) || el.attr("to").is_some() {
            return;
        }
        match el.attr("type") {
            None => self.available = true,
            Some("unavailable") => self.available = false,
            Some(_) => {}
        }
    }

    /// The stream is about to close: withdraw our presence first, so that contacts see
    /// us leave rather than a server's guess after the connection is gone.
    pub(crate) fn on_close(&mut self, cx: &mut Cx) {
        if self.available && cx.is_open() {
            if let Ok(presence) = Presence::unavailable().build() {
                cx.emit(&Element::from(presence));
            }
            self.available = false;
        }
    }
}
