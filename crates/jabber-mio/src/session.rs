//! One session of the driver: its socket, its link and its bookkeeping.

use std::net::SocketAddr;
use std::time::Instant;

use jabber_net::{CaptureFile, Clock, Link, Options};
use mio::net::TcpStream;

/// A session's socket and core, as the driver keeps them.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) stream: TcpStream,
    pub(crate) link: Link,
    /// The system's clock as the core's; held while connecting, so that the core's
    /// timers start when the connection is up.
    pub(crate) clock: Clock,
    /// The slot's generation, part of the [`SessionId`](crate::SessionId).
    pub(crate) generation: u32,
    /// The TCP connection is not established yet; the deadline is the connect timeout.
    pub(crate) connect_deadline: Option<Instant>,
    /// The deadline pushed into the timer queue last.
    pub(crate) armed: Option<Instant>,
    /// Registered for writable readiness (bytes are waiting for the socket).
    pub(crate) writable: bool,
    /// `Event::Closed` was output: the session is over for the application; the
    /// socket stays only to deliver the last bytes (the link bounds how long).
    pub(crate) over: bool,
    /// Where the session is captured, with `Options::capture` (boxed: rarely on).
    pub(crate) capture: Option<Box<CaptureFile>>,
    /// From [`Driver::connect_domain`](crate::Driver::connect_domain): the addresses
    /// still to try, last first, each with its endpoint's options, while connecting.
    /// Empty (no heap) otherwise.
    pub(crate) fallbacks: Vec<(SocketAddr, Options)>,
    /// The config `connect_domain` was given, for a fallback of the other TLS kind: the
    /// link's own config says the transport is encrypted after direct TLS, which a plain
    /// connection must not inherit (boxed: only `connect_domain` sessions have one).
    pub(crate) fallback_config: Option<Box<jabber_proto::client::Config>>,
    /// From [`Driver::connect_reconnecting`](crate::Driver::connect_reconnecting): what
    /// the session keeps across connections (boxed: `None` for other sessions).
    pub(crate) reconnect: Option<Box<crate::driver::reconnect::Reconnecting>>,
}

impl Session {
    /// When the session wants to be woken next.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if let Some(at) = self.reconnect.as_ref().and_then(|r| r.offline_deadline()) {
            return at;
        }
        match self.connect_deadline {
            Some(at) => Some(at),
            None => self.link.poll_timeout().and_then(|t| self.clock.to_std(t)),
        }
    }
}
