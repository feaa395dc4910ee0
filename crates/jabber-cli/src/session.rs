//! A logged-in session and the waits every command is made of: a request and its
//! answer, a ping round trip, the logout.

use std::time::Duration;

use jabber_tokio::jabber_proto::client::{Error as ClientError, IqId};
use jabber_tokio::jabber_proto::ns;
use jabber_tokio::jabber_proto::stanza::{IqType, StanzaError};
use jabber_tokio::{Client, Connection, Element, Event, IqEvent, Jid};

use crate::fail::Failure;
use crate::output::Record;

/// How long a command waits for an answer the core does not time itself.
pub(crate) const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// A connection that has logged in.
pub(crate) struct Session {
    /// The connection.
    pub(crate) conn: Connection,
    /// Our full address, as the server bound it.
    pub(crate) me: Jid,
    /// `--json`.
    pub(crate) json: bool,
}

impl Session {
    /// The session over `conn`, logged in as `me`.
    pub(crate) fn new(conn: Connection, me: Jid, json: bool) -> Session {
        Session { conn, me, json }
    }

    /// Runs a command on the core; its own refusal and the transport's are failures.
    pub(crate) fn command<R>(
        &mut self,
        f: impl FnOnce(&mut Client, jabber_tokio::jabber_proto::time::Instant) -> Result<R, ClientError>,
    ) -> Result<R, Failure> {
        Ok(self.conn.with_client(f)??)
    }

    /// Waits for the first event `pick` takes, dropping the others; the end of the
    /// connection or [`ANSWER_WAIT`] without it is a failure.
    pub(crate) async fn wait_for<T>(
        &mut self,
        mut pick: impl FnMut(Event) -> Option<T>,
    ) -> Result<T, Failure> {
        let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.conn.next_event()).await;
            match next {
                Err(_) => return Err(Failure::new("the server did not answer")),
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(None)) => return Err(Failure::new("the connection ended")),
                Ok(Ok(Some(Event::Closed(reason)))) => {
                    return Err(Failure::new(format!("the connection ended: {reason}")));
                }
                Ok(Ok(Some(event))) => {
                    if let Some(t) = pick(event) {
                        return Ok(t);
                    }
                }
            }
        }
    }

    /// Waits for the answer to the application's IQ `id`: the result's payload, or the
    /// error.
    pub(crate) async fn iq_answer(
        &mut self,
        id: IqId,
    ) -> Result<Result<Option<Element>, StanzaError>, Failure> {
        self.wait_for(|event| match event {
            Event::Iq(IqEvent::Result { id: got, iq }) if got == id => {
                Some(Ok(Ok(iq.payload().map(|p| p.to_element()))))
            }
            Event::Iq(IqEvent::Error { id: got, error, .. }) if got == id => Some(Ok(Err(error))),
            Event::Iq(IqEvent::Timeout { id: got }) if got == id => {
                Some(Err(Failure::new("the server did not answer")))
            }
            Event::Iq(IqEvent::Lost { id: got }) if got == id => Some(Err(Failure::new(
                "the connection was lost before the answer",
            ))),
            _ => None,
        })
        .await?
    }

    /// Pings `to` (our server when `None`, XEP-0199) and waits for the answer. Any
    /// answer, even an error, means every stanza we sent before it was handled: the
    /// server processes a session's stanzas in order.
    pub(crate) async fn ping(
        &mut self,
        to: Option<&Jid>,
    ) -> Result<Result<(), StanzaError>, Failure> {
        let ping = Element::builder("ping", ns::PING).build()?;
        let to = to.cloned();
        let id = self.command(move |c, now| c.send_iq(now, to.as_ref(), IqType::Get, ping))?;
        Ok(self.iq_answer(id).await?.map(|_| ()))
    }

    /// Makes sure the server has everything sent so far: a ping round trip to it.
    pub(crate) async fn settle(&mut self) -> Result<(), Failure> {
        self.ping(None).await?.ok();
        Ok(())
    }

    /// Logs out and, with `--json`, says what was done to `jid` (a record of `kind`).
    pub(crate) async fn done(self, kind: &str, jid: &str) -> Result<(), Failure> {
        let json = self.json;
        self.logout().await?;
        if json {
            Record::new(kind, "").field("jid", Some(jid)).print(true)?;
        }
        Ok(())
    }

    /// Logs out: our unavailable presence, the acknowledgement of what we received
    /// (XEP-0198; the core sends it), the stream's close, the server's.
    pub(crate) async fn logout(self) -> Result<(), Failure> {
        // What the command had to do is done; a server that does not close cleanly
        // changes nothing of it.
        let _ = self.conn.close().await;
        Ok(())
    }
}
