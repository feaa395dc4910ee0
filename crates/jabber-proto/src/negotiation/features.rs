//! `<stream:features>` (RFC 6120 §4.3.2) as a typed value: what the server offers next.

use alloc::string::String;
use alloc::vec::Vec;

use crate::ns;
use crate::xml::ElementRef;

/// What one `<stream:features>` offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamFeatures {
    /// STARTTLS is offered (RFC 6120 §5).
    pub starttls: bool,
    /// ... and the server says it is required.
    pub starttls_required: bool,
    /// SASL mechanisms, in the server's order (RFC 6120 §6).
    pub mechanisms: Vec<String>,
    /// Channel-binding types the server supports (XEP-0440); empty when it does not say.
    pub channel_bindings: Vec<String>,
    /// Resource binding is offered (RFC 6120 §7).
    pub bind: bool,
    /// Session establishment is offered ...
    pub session: bool,
    /// ... and marked `<optional/>` (RFC 6121 appendix E): then it is skipped.
    pub session_optional: bool,
    /// Classic authentication is offered (XEP-0078 §4).
    pub iq_auth: bool,
    /// In-band registration is offered (XEP-0077).
    pub register: bool,
    /// Stream management is offered (XEP-0198).
    pub stream_management: bool,
    /// Roster versioning is offered (RFC 6121 §2.6).
    pub roster_versioning: bool,
}

impl StreamFeatures {
    /// Reads a `<stream:features>` element; unknown features are skipped.
    ///
    /// ```
    /// # use jabber_proto::negotiation::features::StreamFeatures;
    /// # use jabber_proto::stream::{Item, StreamParser};
    /// let mut p = StreamParser::new(Default::default());
    /// p.push(b"<stream:stream xmlns='jabber:client' \
    ///     xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>\
    ///     <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>\
    ///     </starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    ///     <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>\
    ///     </stream:features>");
    /// p.next_item();
    /// let Some(Ok(Item::Element(el))) = p.next_item() else { panic!() };
    /// let f = StreamFeatures::from_element(el.root());
    /// assert!(f.starttls && f.starttls_required);
    /// assert_eq!(f.mechanisms, ["SCRAM-SHA-1", "PLAIN"]);
    /// ```
    pub fn from_element(features: ElementRef<'_>) -> StreamFeatures {
        let mut f = StreamFeatures::default();
        for child in features.children() {
            match (child.ns(), child.name()) {
                (ns::TLS, "starttls") => {
                    f.starttls = true;
                    f.starttls_required = child.child("required", ns::TLS).is_some();
                }
                (ns::SASL, "mechanisms") => {
                    f.mechanisms = child
                        .children()
                        .filter(|m| m.is("mechanism", ns::SASL))
                        .map(|m| String::from(m.text().trim()))
                        .filter(|m| !m.is_empty())
                        .collect();
                }
                (ns::SASL_CB, "sasl-channel-binding") => {
                    f.channel_bindings = child
                        .children()
                        .filter(|c| c.is("channel-binding", ns::SASL_CB))
                        .filter_map(|c| c.attr("type").map(String::from))
                        .collect();
                }
                (ns::BIND, "bind") => f.bind = true,
                (ns::SESSION, "session") => {
                    f.session = true;
                    f.session_optional = child.child("optional", ns::SESSION).is_some();
                }
                (ns::FEATURE_IQ_AUTH, "auth") => f.iq_auth = true,
                (ns::FEATURE_REGISTER, "register") => f.register = true,
                (ns::SM, "sm") => f.stream_management = true,
                (ns::FEATURE_ROSTER_VER, "ver") => f.roster_versioning = true,
                _ => {}
            }
        }
        f
    }
}
