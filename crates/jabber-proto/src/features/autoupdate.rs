//! Software updates as the seed protocol knew them: a `jabber:x:autoupdate` notice in a
//! message names the agent to ask, and a `jabber:iq:autoupdate` query to that agent
//! answers with the versions available (release, beta, dev).
//!
//! [`Client::check_update`](crate::client::Client::check_update) sends the query; the
//! answer comes back as [`ServiceEvent::Update`](crate::client::ServiceEvent::Update).

use alloc::string::String;
use alloc::vec::Vec;

use crate::ns;
use crate::stanza::Message;
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// Which line of the software an [`UpdateRelease`] belongs to.
    pub enum UpdateChannel {
        /// A stable release.
        Release => "release",
        /// A beta.
        Beta => "beta",
        /// A development build.
        Dev => "dev",
    }
}

/// One version on offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRelease {
    /// Its line.
    pub channel: UpdateChannel,
    /// `priority`: `optional` or `mandatory`, as given.
    pub priority: Option<String>,
    /// `ver`, the version.
    pub version: String,
    /// `desc`, what changed.
    pub description: Option<String>,
    /// `url`, where to get it.
    pub url: Option<String>,
}

/// The answer to an update query: every version on offer, in the agent's order (empty
/// when there is nothing newer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateInfo {
    /// The versions on offer.
    pub releases: Vec<UpdateRelease>,
}

impl UpdateInfo {
    /// Reads a `<query xmlns='jabber:iq:autoupdate'/>` answer; entries without a version
    /// are skipped.
    pub fn from_query(query: ElementRef<'_>) -> UpdateInfo {
        let text = |el: ElementRef<'_>, name: &str| {
            el.child(name, ns::IQ_AUTOUPDATE)
                .map(|c| c.text().into_owned())
        };
        let releases = query
            .children()
            .filter(|c| c.ns() == ns::IQ_AUTOUPDATE)
            .filter_map(|c| {
                Some(UpdateRelease {
                    channel: UpdateChannel::from_name(c.name())?,
                    priority: c.attr("priority").map(String::from),
                    version: text(c, "ver")?,
                    description: text(c, "desc").filter(|d| !d.is_empty()),
                    url: text(c, "url").filter(|u| !u.is_empty()),
                })
            })
            .collect();
        UpdateInfo { releases }
    }

    /// What an IQ result carries (nothing on offer when it has no answer).
    pub fn from_result(payload: Option<ElementRef<'_>>) -> UpdateInfo {
        payload
            .filter(|p| p.is("query", ns::IQ_AUTOUPDATE))
            .map(UpdateInfo::from_query)
            .unwrap_or_default()
    }
}

/// The update query: `<query xmlns='jabber:iq:autoupdate'/>`.
pub fn query() -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_AUTOUPDATE).build()
}

/// The agent a `jabber:x:autoupdate` notice in `message` names (its text, or a `jid`
/// attribute as some servers wrote it), to ask with
/// [`Client::check_update`](crate::client::Client::check_update); `None` when the
/// message carries no notice.
///
/// ```
/// use jabber_proto::features::autoupdate::notice;
/// use jabber_proto::stanza::{Message, Stanza};
/// use jabber_proto::xml::Element;
/// let el = Element::builder("message", "jabber:client")
///     .child(Element::builder("x", "jabber:x:autoupdate").text("update.example.com"))
///     .build()
///     .unwrap();
/// let Ok(Stanza::Message(m)) = Stanza::try_from(el) else { panic!() };
/// assert_eq!(notice(&m).as_deref(), Some("update.example.com"));
/// ```
pub fn notice(message: &Message) -> Option<String> {
    let x = message.element().child("x", ns::X_AUTOUPDATE)?;
    let text = x.text();
    let text = text.trim();
    if text.is_empty() {
        x.attr("jid").map(String::from)
    } else {
        Some(String::from(text))
    }
}
