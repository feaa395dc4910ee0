//! The handle other tasks use to reach a connection's core.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use jabber_proto::client::{self, Client};
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;
use tokio::sync::{mpsc, oneshot};

use crate::Error;

/// A command on its way to the core. It reports its own result (through a oneshot
/// channel), so the queue needs no type per command.
pub(crate) type Command = Box<dyn FnOnce(&mut Client, Instant) + Send>;

/// Commands that may wait for the connection at once, over all its senders. The queue
/// sits in front of the core's own bound ([`Config::max_unsent_bytes`](crate::Config)):
/// bounded, so that senders wait (rather than memory grows) while the connection is not
/// being polled.
pub(crate) const COMMAND_QUEUE: usize = 32;

/// A handle to a [`Connection`](crate::Connection) for other tasks: cloneable, `Send` and
/// `Sync`, usable while the connection is polled elsewhere (by the task that reads its
/// events). Made by [`Connection::sender`](crate::Connection::sender).
///
/// A command sent through it runs on the core the next time the connection is polled
/// ([`next_event`](crate::Connection::next_event), the `Stream`, [`login`](crate::Connection::login),
/// [`flush`](crate::Connection::flush), ...), and its bytes go out in the same poll. Every
/// call waits for the core's verdict, so a stanza the core refuses (the stream is not open
/// or closing, the send buffer is full, ...) is an `Err` here, never a silent loss.
///
/// Two consequences of waiting:
/// - A call returns only while someone polls the connection. Awaiting it in the task
///   that polls the connection, and only there, waits forever: that task uses
///   [`Connection::send`](crate::Connection::send) and
///   [`Connection::with_client`](crate::Connection::with_client) instead.
/// - At most 32 commands, over all clones, wait for the connection at once; further
///   calls wait for room. That is the backpressure of a task
///   that sends faster than the connection is polled.
///
/// Once the connection is over (the core closed, the socket failed, or the
/// [`Connection`](crate::Connection) was dropped), calls fail with
/// [`Error::Client`]`(`[`client::Error::Closed`]`)`; commands still queued then are
/// dropped and fail the same way.
///
/// **Cancellation.** Dropping a call's future while it waits for room sends nothing.
/// Once there was room the command is queued and runs even if the future is dropped;
/// only its verdict is lost.
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::Sender<Command>,
}

impl Sender {
    pub(crate) fn new(tx: mpsc::Sender<Command>) -> Sender {
        Sender { tx }
    }

    /// Sends a stanza (any top-level element), e.g. a [`Message`](crate::Message), and
    /// waits until the core has taken it (the bytes are handed to the socket in the same
    /// poll of the connection). `Err(`[`Error::Client`]`)` when the core refuses it.
    pub async fn send(&self, stanza: impl Into<Element>) -> Result<(), Error> {
        let element = stanza.into();
        self.command(move |client, now| client.send(now, element))
            .await??;
        Ok(())
    }

    /// Runs any command on the core with the current time and returns what it returned,
    /// e.g. the id of an IQ:
    ///
    /// ```no_run
    /// # async fn f(sender: jabber_tokio::Sender, payload: jabber_tokio::Element)
    /// # -> Result<(), jabber_tokio::Error> {
    /// use jabber_tokio::jabber_proto::stanza::IqType;
    /// let id = sender
    ///     .command(move |client, now| client.send_iq(now, None, IqType::Get, payload))
    ///     .await??;
    /// // The answer comes to the task that reads the events: Event::Iq(IqEvent::Result { id, .. }).
    /// # Ok(()) }
    /// ```
    ///
    /// The outer `Result` says whether the command ran, the inner one (if `f` returns one)
    /// is the command's. Leave the outputs to the connection: an event `f` takes with
    /// [`Client::poll_event`] is not delivered.
    pub async fn command<R, F>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce(&mut Client, Instant) -> R + Send + 'static,
        R: Send + 'static,
    {
        let permit = self.tx.reserve().await.map_err(|_| closed())?;
        let (tx, rx) = oneshot::channel();
        permit.send(Box::new(move |client: &mut Client, now: Instant| {
            // The caller may have stopped waiting; the command ran all the same.
            let _ = tx.send(f(client, now));
        }));
        // A command that got into the queue just as the connection ended never runs:
        // the end of the queue answers for it.
        let mut rx = rx;
        let mut ended = std::pin::pin!(self.tx.closed());
        std::future::poll_fn(|cx| {
            if let Poll::Ready(answer) = Pin::new(&mut rx).poll(cx) {
                return Poll::Ready(answer.map_err(|_| closed()));
            }
            if ended.as_mut().poll(cx).is_ready() {
                // Commands that ran answered before the queue was closed.
                return Poll::Ready(rx.try_recv().map_err(|_| closed()));
            }
            Poll::Pending
        })
        .await
    }

    /// Logs out: asks the core to close the stream ([`Client::close`]). Returns once the
    /// close has started, or at once when the connection is already over. The task that
    /// reads the events sees the rest: the server's answer, then
    /// [`Event::Closed`](crate::Event::Closed)`(`[`CloseReason::Local`](crate::CloseReason::Local)`)`.
    pub async fn close(&self) {
        // A connection that is over needs no closing.
        let _ = self.command(|client, now| client.close(now)).await;
    }

    /// Whether the connection is over (or dropped): every call fails from then on.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the connection is over (or dropped), e.g. to end a task that feeds it:
    ///
    /// ```no_run
    /// # async fn f(sender: jabber_tokio::Sender, mut lines: tokio::sync::mpsc::Receiver<jabber_tokio::Message>) {
    /// loop {
    ///     tokio::select! {
    ///         _ = sender.closed() => break,
    ///         Some(message) = lines.recv() => {
    ///             if sender.send(message).await.is_err() { break; }
    ///         }
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.tx.is_closed())
            .finish_non_exhaustive()
    }
}

/// What a command gets when the connection is over.
pub(crate) fn closed() -> Error {
    Error::Client(client::Error::Closed)
}
