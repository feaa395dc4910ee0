//! What a session does once it is up, a module per feature: the roster, our own
//! presence, others' presence, subscriptions, and keeping the link alive. Each owns its
//! state and is reached by [`Client`](crate::client::Client) through a narrow interface;
//! see `docs/architecture.md` for the pattern.
//!
//! Instant messaging (RFC 6121) as the application sees it, all on
//! [`Client`](crate::client::Client):
//! - our presence: [`send_presence`](crate::client::Client::send_presence) with a
//!   [`Presence`](crate::stanza::Presence) built by `Presence::available()` /
//!   `unavailable()` (show, status, priority; `.to(..)` for directed presence);
//! - others' presence: [`Event::Presence`](crate::client::Event::Presence) and the model
//!   [`presence()`](crate::client::Client::presence) ([`contacts`]);
//! - subscriptions: [`subscribe`](crate::client::Client::subscribe),
//!   [`approve_subscription`](crate::client::Client::approve_subscription),
//!   [`deny_subscription`](crate::client::Client::deny_subscription),
//!   [`unsubscribe`](crate::client::Client::unsubscribe),
//!   [`Event::Subscription`](crate::client::Event::Subscription) and
//!   [`pending_subscriptions`](crate::client::Client::pending_subscriptions);
//! - the roster: [`roster()`](crate::client::Client::roster), kept from the server's
//!   answers and pushes only, versioned with
//!   [`Config::roster_cache`](crate::client::Config::roster_cache) ([`roster`]).
//!
//! ```
//! use core::num::NonZeroU64;
//! use jabber_proto::client::{Client, Config, Event, SubscriptionEvent};
//! use jabber_proto::jid::Jid;
//! use jabber_proto::time::Instant;
//!
//! let now = Instant::ZERO;
//! let mut client = Client::new(Config::new("example.com", NonZeroU64::MIN), now);
//! client.handle_input(now, b"<stream:stream xmlns='jabber:client' \
//!     xmlns:stream='http://etherx.jabber.org/streams' id='s1'>").unwrap();
//! client.handle_input(now, b"<presence from='juliet@example.com/balcony'>\
//!     <show>away</show><priority>1</priority></presence>\
//!     <presence from='juliet@example.com/phone'><priority>5</priority></presence>\
//!     <presence from='romeo@example.net' type='subscribe'/>").unwrap();
//!
//! let juliet = Jid::parse("juliet@example.com").unwrap();
//! let best = client.presence().best(&juliet).unwrap();
//! assert_eq!((best.jid.resource(), best.show, best.priority), (Some("phone"), None, 5));
//! assert_eq!(client.presence().resources(&juliet).len(), 2);
//! assert_eq!(client.pending_subscriptions(), [Jid::parse("romeo@example.net").unwrap()]);
//! let requests = std::iter::from_fn(|| client.poll_event())
//!     .filter(|e| matches!(e, Event::Subscription(SubscriptionEvent::Request(_))))
//!     .count();
//! assert_eq!(requests, 1);
//! ```

pub mod autoupdate;
pub mod block_policy;
pub mod blocking;
pub mod caps;
pub mod carbons;
pub mod conference;
pub mod contacts;
pub mod disclosure;
pub mod disco;
pub mod files;
pub(crate) mod keepalive;
pub(crate) mod messaging;
pub(crate) mod presence;
pub mod private_storage;
pub mod roster;
pub(crate) mod services;
pub mod stream_management;
pub(crate) mod subscriptions;
pub mod vcard;
