//! XMPP over WebSocket (RFC 7395) on tokio: the core in
//! [`Framing::WebSocket`](jabber_proto::stream::Framing), one WebSocket text message per
//! element both ways, over `ws:` or `wss:` (TLS by tokio-rustls with the adapters' trust
//! store); and XEP-0156 discovery of the endpoint.
//!
//! The protocol is the core's: the adapter only moves messages and time. What the
//! adapters share of it (reading `host-meta`, the channel binding of a TLS session) is
//! in jabber-net.

use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jabber_net::{CaptureFile, Clock, LoggedIn, Options, Tls};
use jabber_proto::client::{Client, CloseReason, Config, Event};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stream::Framing;
use jabber_proto::time::Instant;
use jabber_proto::xml::Element;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Error;

/// The WebSocket subprotocol of XMPP (RFC 7395 §3.1).
const SUBPROTOCOL: &str = "xmpp";

/// Most bytes of a `host-meta` response read.
const HOST_META_MAX: usize = 64 * 1024;

/// A `ws:` or `wss:` URL, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    secure: bool,
    host: String,
    port: u16,
}

impl Endpoint {
    /// `scheme://host[:port]/...` for the schemes given with their default ports.
    fn parse(url: &str, schemes: &[(&str, bool, u16)]) -> Result<Endpoint, Error> {
        let bad = || invalid(format!("not a WebSocket or HTTPS URL: {url:?}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let &(_, secure, default_port) = schemes
            .iter()
            .find(|(s, ..)| s.eq_ignore_ascii_case(scheme))
            .ok_or_else(bad)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(bad());
        }
        let (host, port) = match authority.strip_prefix('[') {
            // An IPv6 literal: `[::1]:5443`.
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or_else(bad)?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => default_port,
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Endpoint {
            secure,
            host: host.to_owned(),
            port,
        })
    }

    /// The name the server's certificate must carry: the one [`Tls::server_name`] gives,
    /// else the URL's host — or, for an address literal, the XMPP domain.
    fn server_name(&self, tls: &Tls, domain: &str) -> String {
        if let Some(name) = &tls.server_name {
            return name.clone();
        }
        if self.host.parse::<std::net::IpAddr>().is_ok() {
            return domain.to_owned();
        }
        self.host.clone()
    }
}

fn invalid(text: String) -> Error {
    Error::Io(io::Error::new(ErrorKind::InvalidInput, text))
}

/// `step` within `limit`, else [`ErrorKind::TimedOut`] naming `what`: a peer that accepts
/// and then stays silent must not hold a connect (or a write) forever.
async fn within<T>(
    limit: Duration,
    what: &str,
    step: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, step).await.unwrap_or_else(|_| {
        Err(Error::Io(io::Error::new(
            ErrorKind::TimedOut,
            format!("{what} timed out"),
        )))
    })
}

/// A TCP stream, or TLS over one.
enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A TLS error as [`Error::Tls`], anything else as [`Error::Io`].
fn io_error(e: io::Error) -> Error {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<jabber_net::rustls::Error>())
        .cloned();
    match tls {
        Some(tls) => Error::Tls(tls),
        None => Error::Io(e),
    }
}

fn ws_error(e: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        WsError::Io(e) => io_error(e),
        WsError::Tls(e) => Error::Io(io::Error::other(e)),
        other => Error::Io(io::Error::other(other)),
    }
}

/// Connects TCP to the endpoint (each resolved address in turn, each within
/// `options.connect_timeout`) and, for a secure one, TLS for `name`. Also the TLS
/// session's channel-binding data.
async fn connect_transport(
    endpoint: &Endpoint,
    options: &Options,
    domain: &str,
) -> Result<
    (
        Transport,
        Vec<jabber_proto::negotiation::sasl::ChannelBinding>,
    ),
    Error,
> {
    let mut last = None;
    let mut tcp = None;
    for addr in tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port)).await? {
        match tokio::time::timeout(options.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                tcp = Some(stream);
                break;
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(io::Error::new(ErrorKind::TimedOut, "connect timed out")),
        }
    }
    let tcp = tcp
        .ok_or_else(|| last.unwrap_or_else(|| io::Error::new(ErrorKind::NotFound, "no address")))?;
    // No delay, and TCP keepalive as `options` ask (as on the TCP path).
    jabber_net::configure_socket(&tcp, options)?;
    if !endpoint.secure {
        return Ok((Transport::Plain(tcp), Vec::new()));
    }
    let tls = options.tls.clone().unwrap_or_default();
    let name = endpoint.server_name(&tls, domain);
    let server_name = jabber_net::rustls::pki_types::ServerName::try_from(name.clone())
        .map_err(|e| invalid(format!("server name {name:?}: {e}")))?;
    let connector = TlsConnector::from(tls.client_config()?);
    let handshake = async { connector.connect(server_name, tcp).await.map_err(io_error) };
    let stream = within(options.connect_timeout, "the TLS handshake", handshake).await?;
    let bindings = jabber_net::channel_bindings(stream.get_ref().1);
    Ok((Transport::Tls(Box::new(stream)), bindings))
}

/// One XMPP connection over a WebSocket (RFC 7395): `ws:` or `wss:`, with the core in
/// [`Framing::WebSocket`]. Like [`Connection`](crate::Connection), it works while it is
/// polled ([`next_event`](Self::next_event), [`login`](Self::login),
/// [`flush`](Self::flush), [`close`](Self::close)) and spawns nothing; unlike it, its
/// futures may be dropped only while they wait for input or time — a future dropped
/// while a message is being written may lose that message.
///
/// ```no_run
/// # async fn f() -> Result<(), jabber_tokio::Error> {
/// use jabber_tokio::{Config, Credentials, Options, WebSocketConnection, fresh_seed};
/// let config = Config::new("example.com", fresh_seed());
/// let url = jabber_tokio::discover_websocket("example.com", &Options::default())
///     .await?
///     .into_iter()
///     .next()
///     .unwrap_or_else(|| "wss://example.com/xmpp-websocket".into());
/// let mut conn = WebSocketConnection::connect(&url, config, Options::default()).await?;
/// let me = conn.login(Credentials::new("alice", "secret", "web")).await?;
/// println!("logged in as {}", me.jid);
/// conn.close().await?;
/// # Ok(()) }
/// ```
pub struct WebSocketConnection {
    ws: WebSocketStream<Transport>,
    client: Client,
    clock: Clock,
    events: VecDeque<Event>,
    secure: bool,
    /// The server closed the WebSocket (or it ended): nothing more is read.
    read_done: bool,
    /// Our WebSocket close was sent (after the core finished), or the socket failed.
    ws_done: bool,
    /// `Closed` was handed to the caller.
    ended: bool,
    failure: Option<Error>,
    fresh_failure: Option<Error>,
    /// [`Options::write_timeout`]: a message the socket takes none of within it fails
    /// the connection.
    write_timeout: Option<Duration>,
    /// Where the session is captured, with [`Options::capture`] (boxed: rarely on).
    capture: Option<Box<CaptureFile>>,
}

impl WebSocketConnection {
    /// Connects to the WebSocket endpoint `url` (`ws://host[:port]/path` or `wss://...`,
    /// from the server's documentation or [`discover_websocket`]) asking for the `xmpp`
    /// subprotocol, and sends the core's `<open/>`. `config.framing` is set to
    /// [`Framing::WebSocket`] and `config.transport_encrypted` to whether the URL is
    /// `wss:`; over `wss:` the certificate is checked (with [`Options::tls`], the usual
    /// roots by default) for the URL's host, or for `config.domain` when the host is an
    /// address literal, or for [`Tls::server_name`] when set, and the TLS session's
    /// channel binding is given to the core for SCRAM `-PLUS`. Over `ws:`, a login needs
    /// `config.require_tls` off.
    ///
    /// From `options`: each of the TCP connect, the TLS handshake and the WebSocket
    /// upgrade must finish within [`Options::connect_timeout`] (else
    /// [`ErrorKind::TimedOut`]); a write the peer takes nothing of within
    /// [`Options::write_timeout`] fails the connection the same way; the socket gets
    /// [`Options::tcp_keepalive`]; and [`Options::capture`] writes the session's capture
    /// as on the TCP path. A `<close see-other-uri/>` is reported
    /// ([`CloseReason::SeeOtherUri`], raw) and not followed.
    pub async fn connect(
        url: &str,
        mut config: Config,
        options: Options,
    ) -> Result<WebSocketConnection, Error> {
        let endpoint = Endpoint::parse(url, &[("ws", false, 80), ("wss", true, 443)])?;
        let (transport, bindings) = connect_transport(&endpoint, &options, &config.domain).await?;
        let mut request = url.into_client_request().map_err(ws_error)?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        // A message may be as large as a stanza the core takes, and no larger: the
        // WebSocket layer holds no more than the core would (plus the `<open/>` slack).
        let limit = config.limits.max_stanza_bytes.saturating_add(1024);
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit));
        let upgrade = async {
            tokio_tungstenite::client_async_with_config(request, transport, Some(ws_config))
                .await
                .map_err(ws_error)
        };
        let (ws, response) =
            within(options.connect_timeout, "the WebSocket upgrade", upgrade).await?;
        let agreed = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        if agreed != Some(SUBPROTOCOL) {
            return Err(Error::Io(io::Error::new(
                ErrorKind::InvalidData,
                format!("the server did not agree to the xmpp subprotocol ({agreed:?})"),
            )));
        }
        config.framing = Framing::WebSocket;
        config.transport_encrypted = endpoint.secure;
        // Written synchronously, as on the TCP path: a debugging aid, small writes.
        let capture = CaptureFile::for_options(&options)?.map(Box::new);
        if capture.is_some() {
            config.capture = true;
        }
        let clock = Clock::start();
        let now = clock.now();
        let mut client = Client::new(config, now);
        if !bindings.is_empty() {
            client.handle_channel_binding(now, bindings);
        }
        let mut conn = WebSocketConnection {
            ws,
            client,
            clock,
            events: VecDeque::new(),
            secure: endpoint.secure,
            read_done: false,
            ws_done: false,
            ended: false,
            failure: None,
            fresh_failure: None,
            write_timeout: options.write_timeout,
            capture,
        };
        conn.queue_events();
        conn.write_out().await;
        conn.take_failure().map_or(Ok(conn), Err)
    }

    /// Logs in (SASL and binding, as [`Client::login`]) and waits until the session is
    /// ready; other events stay queued for [`next_event`](Self::next_event) — up to
    /// `Config::max_events` of them: then it fails with `Error::Client(EventQueueFull)`
    /// (take them with `next_event`; the login's outcome follows among them), as
    /// [`Connection::login`](crate::Connection::login) does.
    pub async fn login(&mut self, credentials: Credentials) -> Result<LoggedIn, Error> {
        self.with_client(|client, now| client.login(now, credentials))??;
        jabber_net::login_outcome(self.wait_for(|e| matches!(e, Event::Session(_))).await?)
    }

    /// The next event, waiting until one arrives; `Ok(None)` once [`Event::Closed`] has
    /// been delivered (the WebSocket is closed by then). After a transport failure, the
    /// events queued before it, then the error, repeated by every later call.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.pop() {
                return Ok(Some(event));
            }
            if self.ended {
                return Ok(None);
            }
            if let Some(e) = self.take_failure() {
                return Err(e);
            }
            self.step().await;
        }
    }

    /// Sends a stanza (any top-level element): queued in the core, written while the
    /// connection is next polled (or by [`flush`](Self::flush)).
    pub fn send(&mut self, stanza: impl Into<Element>) -> Result<(), Error> {
        self.with_client(|client, now| client.send(now, stanza))??;
        Ok(())
    }

    /// Runs any command on the core with the current time (see
    /// [`Connection::with_client`](crate::Connection::with_client)); what it writes goes
    /// out while the connection is next polled.
    pub fn with_client<R>(
        &mut self,
        f: impl FnOnce(&mut Client, Instant) -> R,
    ) -> Result<R, Error> {
        if let Some(e) = self.take_failure() {
            return Err(e);
        }
        let result = f(&mut self.client, self.clock.now());
        self.queue_events();
        Ok(result)
    }

    /// Writes every message the core has queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.write_out().await;
        self.take_failure().map_or(Ok(()), Err)
    }

    /// The core, for its getters.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether the WebSocket runs over TLS (`wss:`).
    pub fn is_tls(&self) -> bool {
        self.secure
    }

    /// Logs out: the core's `<close/>`, the server's, then the WebSocket's close; returns
    /// why the connection ended ([`CloseReason::Local`] on a clean logout). Events still
    /// queued or arriving meanwhile are dropped.
    pub async fn close(mut self) -> Result<CloseReason, Error> {
        if self.failure.is_none() && !self.client.is_closed() {
            let now = self.clock.now();
            self.client.close(now);
        }
        loop {
            self.events.clear();
            if let Some(e) = self.take_failure() {
                return Err(e);
            }
            if self.ws_done {
                if let Some(reason) = self.client.close_reason() {
                    return Ok(reason.clone());
                }
            }
            self.step().await;
        }
    }

    // ---- the loop ----

    async fn wait_for(&mut self, pick: impl Fn(&Event) -> bool) -> Result<Event, Error> {
        // Bounded like the core's queue, counting only what arrives while waiting.
        let limit = self.events.len() + self.client.config().max_events.max(1);
        loop {
            let found = self
                .events
                .iter()
                .position(|e| pick(e) || matches!(e, Event::Closed(_)));
            if let Some(i) = found {
                if self.ws_done || !matches!(self.events[i], Event::Closed(_)) {
                    return match self.events.remove(i) {
                        Some(Event::Closed(reason)) => {
                            self.ended = true;
                            Err(Error::Closed(reason))
                        }
                        Some(event) => Ok(event),
                        None => Err(Error::Client(jabber_proto::client::Error::Closed)),
                    };
                }
            }
            if let Some(e) = self.take_failure() {
                return Err(e);
            }
            if self.ended {
                return Err(Error::Client(jabber_proto::client::Error::Closed));
            }
            if self.events.len() >= limit {
                return Err(Error::Client(jabber_proto::client::Error::EventQueueFull));
            }
            self.step().await;
        }
    }

    /// The next deliverable event: `Closed` only once the WebSocket is closed.
    fn pop(&mut self) -> Option<Event> {
        if !self.ws_done && matches!(self.events.front(), Some(Event::Closed(_))) {
            return None;
        }
        let event = self.events.pop_front()?;
        if matches!(event, Event::Closed(_)) {
            self.ended = true;
        }
        Some(event)
    }

    fn take_failure(&mut self) -> Option<Error> {
        if let Some(e) = self.fresh_failure.take() {
            return Some(e);
        }
        self.failure.as_ref().map(Error::repeat)
    }

    fn fail(&mut self, e: Error) {
        if self.failure.is_none() && !self.client.is_closed() {
            self.failure = Some(e.repeat());
            self.fresh_failure = Some(e);
        }
        if !self.client.is_closed() {
            self.client.handle_reset(self.clock.now());
        }
        self.ws_done = true;
        self.queue_events();
    }

    fn queue_events(&mut self) {
        if let Some(capture) = &mut self.capture {
            capture.write_from_client(&mut self.client);
        }
        while let Some(event) = self.client.poll_event() {
            // A reset's `Closed` is not delivered: the failure reports it.
            if !matches!(event, Event::Closed(CloseReason::Reset)) {
                self.events.push_back(event);
            }
        }
    }

    /// Sends each message the core has (one element each, as text); once the core is
    /// finished, closes the WebSocket.
    async fn write_out(&mut self) {
        if self.ws_done {
            return;
        }
        let limit = self.write_timeout.unwrap_or(Duration::MAX);
        while let Some(message) = self.client.take_transmit() {
            // The core writes UTF-8 only.
            let text = String::from_utf8_lossy(&message).into_owned();
            let feed = async { self.ws.feed(Message::text(text)).await.map_err(ws_error) };
            if let Err(e) = within(limit, "a write", feed).await {
                return self.fail(e);
            }
        }
        // Also what the WebSocket owes on its own (pongs).
        let flush = async { self.ws.flush().await.map_err(ws_error) };
        if let Err(e) = within(limit, "a write", flush).await {
            return self.fail(e);
        }
        if self.client.is_finished() {
            // The server may have closed first; its close frame is answered either way.
            let _ = tokio::time::timeout(Duration::from_secs(5), self.ws.close(None)).await;
            self.ws_done = true;
        }
        self.queue_events();
    }

    /// One round: write, then wait for a message or the core's next deadline, then write
    /// what that made.
    async fn step(&mut self) {
        self.write_out().await;
        if self.ws_done {
            return;
        }
        let deadline = self
            .client
            .poll_timeout()
            .and_then(|t| self.clock.to_std(t));
        let reading = !self.read_done && self.client.wants_input();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = self.ws.next(), if reading => self.on_message(message),
            () = sleep => {
                let now = self.clock.now();
                self.client.handle_timeout(now);
            }
        }
        self.write_out().await;
    }

    fn on_message(
        &mut self,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) {
        let now = self.clock.now();
        let input = match message {
            Some(Ok(Message::Text(text))) => self.client.handle_input(now, text.as_bytes()),
            // RFC 7395 sends text; bytes are judged by the core all the same.
            Some(Ok(Message::Binary(bytes))) => self.client.handle_input(now, &bytes),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(()),
            Some(Ok(Message::Close(_))) | None => {
                self.read_done = true;
                self.client.handle_eof(now);
                Ok(())
            }
            Some(Err(e)) => {
                self.read_done = true;
                return self.fail(ws_error(e));
            }
        };
        if let Err(e) = input {
            // Only read while the core wants input: this cannot happen.
            self.fail(Error::Client(e));
        }
        self.queue_events();
    }
}

impl std::fmt::Debug for WebSocketConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketConnection")
            .field("tls", &self.secure)
            .field("state", &self.client.state())
            .field("queued_events", &self.events.len())
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

/// XEP-0156: the WebSocket endpoints `https://{domain}/.well-known/host-meta` (then
/// `host-meta.json`) lists, best first; empty when the domain publishes none. The
/// certificate is checked for `domain` (or [`Tls::server_name`]) with
/// [`Options::tls`]. See [`discover_websocket_at`] for another origin.
pub async fn discover_websocket(domain: &str, options: &Options) -> Result<Vec<String>, Error> {
    discover_websocket_at(&format!("https://{domain}"), domain, options).await
}

/// [`discover_websocket`] at `origin` (`https://host[:port]`), the certificate checked
/// for `domain` when the host is an address literal. Redirects (to `https:` only) are
/// followed up to three times. A `wss:` endpoint comes before a `ws:` one.
pub async fn discover_websocket_at(
    origin: &str,
    domain: &str,
    options: &Options,
) -> Result<Vec<String>, Error> {
    let origin = origin.trim_end_matches('/');
    let mut found = match https_get(
        &format!("{origin}{}", jabber_net::host_meta::XML_PATH),
        domain,
        options,
    )
    .await
    {
        Ok(body) => jabber_net::host_meta::websocket_from_xml(&body),
        Err(_) => Vec::new(),
    };
    if found.is_empty() {
        let body = https_get(
            &format!("{origin}{}", jabber_net::host_meta::JSON_PATH),
            domain,
            options,
        )
        .await?;
        found = jabber_net::host_meta::websocket_from_json(&body);
    }
    // Stable: the document's order within each kind.
    found.sort_by_key(|url| !url.starts_with("wss:"));
    Ok(found)
}

/// A small HTTP/1.0 GET over TLS: the body of a 200 answer, bounded by
/// [`HOST_META_MAX`].
async fn https_get(url: &str, domain: &str, options: &Options) -> Result<Vec<u8>, Error> {
    let mut url = url.to_owned();
    for _ in 0..4 {
        let endpoint = Endpoint::parse(&url, &[("https", true, 443)])?;
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/")
            .to_owned();
        let (mut transport, _) = connect_transport(&endpoint, options, domain).await?;
        let host = match endpoint.port {
            443 => endpoint.host.clone(),
            port => format!("{}:{port}", endpoint.host),
        };
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/xrd+xml, \
             application/json\r\nConnection: close\r\n\r\n"
        );
        let exchange = async {
            transport.write_all(request.as_bytes()).await?;
            transport.flush().await?;
            read_bounded(&mut transport, HOST_META_MAX).await
        };
        let mut response = tokio::time::timeout(options.connect_timeout, exchange)
            .await
            .map_err(|_| io::Error::new(ErrorKind::TimedOut, "no answer to the GET"))??;
        let head_end = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| {
                let start = String::from_utf8_lossy(&response[..response.len().min(80)]);
                bad_http(&format!("no end of the headers in {start:?}"))
            })?;
        let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
        let body = response.split_off(head_end + 4);
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad_http("no status"))?;
        let header = |name: &str| {
            head.split("\r\n").skip(1).find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        match status {
            200 if header("transfer-encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("chunked")) =>
            {
                return dechunk(&body).ok_or_else(|| bad_http("bad chunked body"));
            }
            200 => return Ok(body),
            301 | 302 | 303 | 307 | 308 => {
                let location =
                    header("location").ok_or_else(|| bad_http("redirect without Location"))?;
                if !location.starts_with("https://") {
                    return Err(bad_http("redirect away from https"));
                }
                url = location;
            }
            other => return Err(bad_http(&format!("status {other}"))),
        }
    }
    Err(bad_http("too many redirects"))
}

/// Everything `reader` gives until its end, refused as too large past `max` bytes (not
/// cut silently: a truncated document could still parse, and mean something else).
async fn read_bounded(reader: &mut (impl AsyncRead + Unpin), max: usize) -> Result<Vec<u8>, Error> {
    let mut response = Vec::new();
    let mut limited = reader.take(max as u64 + 1);
    if let Err(e) = limited.read_to_end(&mut response).await {
        // A server that ends TLS without close_notify: what came is what counts.
        if e.kind() != ErrorKind::UnexpectedEof {
            return Err(io_error(e));
        }
    }
    if response.len() > max {
        return Err(bad_http(&format!(
            "the answer is too large (over {max} bytes)"
        )));
    }
    Ok(response)
}

fn bad_http(what: &str) -> Error {
    Error::Io(io::Error::new(
        ErrorKind::InvalidData,
        format!("host-meta: {what}"),
    ))
}

/// A chunked body (RFC 9112 §7.1) as its content; `None` when it is not one.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_taken_apart() {
        let ws = [("ws", false, 80), ("wss", true, 443)];
        let e = |secure, host: &str, port| Endpoint {
            secure,
            host: host.into(),
            port,
        };
        assert_eq!(
            Endpoint::parse("ws://a.example/ws", &ws).ok(),
            Some(e(false, "a.example", 80))
        );
        assert_eq!(
            Endpoint::parse("WSS://a.example:5443", &ws).ok(),
            Some(e(true, "a.example", 5443))
        );
        assert_eq!(
            Endpoint::parse("wss://[::1]:9/x?y", &ws).ok(),
            Some(e(true, "::1", 9))
        );
        for bad in [
            "http://a/",
            "wss://",
            "wss://u@a/",
            "wss://a:x/",
            "wss:/a",
            "[::1]",
        ] {
            assert!(Endpoint::parse(bad, &ws).is_err(), "{bad}");
        }
    }

    #[test]
    fn certificates_are_checked_for_the_host_or_the_domain() {
        let ws = [("wss", true, 443)];
        let tls = Tls::default();
        let named =
            Endpoint::parse("wss://ws.example.net/x", &ws).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(named.server_name(&tls, "example.com"), "ws.example.net");
        let literal = Endpoint::parse("wss://127.0.0.1:1/x", &ws).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(literal.server_name(&tls, "example.com"), "example.com");
        let mut tls = Tls::default();
        tls.server_name = Some("other.example".into());
        assert_eq!(named.server_name(&tls, "example.com"), "other.example");
    }

    #[tokio::test]
    async fn a_host_meta_answer_over_the_bound_is_an_error_not_cut() {
        let fits = vec![b'x'; HOST_META_MAX];
        let read = read_bounded(&mut &fits[..], HOST_META_MAX).await;
        assert_eq!(read.ok().map(|r| r.len()), Some(HOST_META_MAX));
        let over = vec![b'x'; HOST_META_MAX + 1];
        let read = read_bounded(&mut &over[..], HOST_META_MAX).await;
        let Err(Error::Io(e)) = read else {
            panic!("not refused: {read:?}");
        };
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        assert!(e.to_string().contains("too large"), "{e}");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n").as_deref(),
            Some(&b"abcde"[..])
        );
        assert_eq!(dechunk(b"5\r\nab"), None);
        assert_eq!(dechunk(b"zz\r\n"), None);
    }
}
