//! File transfer (the cheat sheet's §8) over HTTP, async: the core negotiates
//! (`jabber:iq:oob`, `jabber:x:oob`, HTTP File Upload), this module moves the bytes,
//! as `jabber_std::files` does with blocking I/O (the rules they share — progress,
//! limits, URLs, the trivial server's answers — are in `jabber_net::transfer`).
//!
//! - [`upload`]: PUT a file to an upload slot (XEP-0363) with the slot's headers;
//! - [`download`]: GET an `http(s)` URL into a file, within a size limit;
//! - [`FileServer`]: the "trivial server" — one file served over HTTP for the duration
//!   of one transfer. [`FileServer::serve`] is a future the owner polls (no task is
//!   spawned): it ends after one complete download, and dropping it (when the receiver
//!   declined, say) closes the listening socket.
//!
//! HTTPS uses the same rustls configuration as the XMPP connection ([`Tls`]).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use jabber_net::Tls;
use jabber_net::transfer::served::{Answer, MAX_REQUEST_HEAD, ServedFile, head_end};
pub use jabber_net::transfer::{MAX_REDIRECTS, redirect_target, transfer_deadline};
use jabber_net::transfer::{Meter, PartFile, check_url};
pub use jabber_net::transfer::{Progress, TransferError, served::ServeOutcome};
/// Where a received file goes: a name from its URL, in a folder, never replacing a file.
pub use jabber_net::transfer::{create_free, file_name_from_url, free_path};
use jabber_proto::features::files::{Oob, UploadSlot};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

/// How long an HTTP peer may stay silent before the transfer fails.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const CHUNK: usize = 64 * 1024;

fn client(
    tls: &Tls,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client, TransferError> {
    let config = tls.client_config().map_err(TransferError::Session)?;
    reqwest::Client::builder()
        .use_preconfigured_tls((*config).clone())
        .redirect(redirects)
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(HTTP_TIMEOUT)
        .build()
        .map_err(http_error)
}

/// A download's redirects: at most [`MAX_REDIRECTS`], each checked by
/// [`redirect_target`] (`http(s)` only, never from `https` down to `http`).
fn checked_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().last().map(|u| u.as_str().to_owned());
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        match redirect_target(from.as_deref().unwrap_or(""), attempt.url().as_str()) {
            Ok(_) => attempt.follow(),
            Err(e) => {
                let e = e.to_string();
                attempt.error(e)
            }
        }
    })
}

/// A time-out as a transfer error.
fn timed_out() -> TransferError {
    TransferError::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        "the transfer took too long",
    ))
}

fn http_error(e: reqwest::Error) -> TransferError {
    match e.status() {
        Some(status) => TransferError::Status(status.as_u16()),
        None => TransferError::Http(error_chain(&e)),
    }
}

/// The error with its causes ("error sending request: ... certificate ..."): reqwest's
/// own text alone hides what went wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// PUTs the file at `path` to `slot` with the slot's headers (and `content_type`),
/// reporting progress as it goes. Only `200` or `201` means stored (a redirect is not
/// followed: it fails with [`TransferError::Status`]); the whole upload must end within
/// [`transfer_deadline`] of its size.
pub async fn upload(
    slot: &UploadSlot,
    path: &Path,
    content_type: Option<&str>,
    tls: &Tls,
    progress: impl FnMut(Progress) + Send + Unpin + 'static,
) -> Result<(), TransferError> {
    check_url(&slot.put_url)?;
    let file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let body = FileStream {
        file,
        buf: vec![0; CHUNK],
        meter: Meter::new(Some(len), None)?,
        progress,
    };
    let mut request = client(tls, reqwest::redirect::Policy::none())?
        .put(&slot.put_url)
        .timeout(transfer_deadline(len))
        .header("Content-Length", len)
        .body(reqwest::Body::wrap_stream(body));
    if let Some(kind) = content_type {
        request = request.header("Content-Type", kind);
    }
    for (header, value) in &slot.put_headers {
        request = request.header(header.name(), value);
    }
    let response = request.send().await.map_err(http_error)?;
    match response.status().as_u16() {
        200 | 201 => Ok(()),
        other => Err(TransferError::Status(other)),
    }
}

/// A file as a stream of chunks, reporting each.
struct FileStream<P> {
    file: tokio::fs::File,
    buf: Vec<u8>,
    meter: Meter,
    progress: P,
}

impl<P: FnMut(Progress) + Unpin> Stream for FileStream<P> {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut read = ReadBuf::new(&mut this.buf);
        ready!(Pin::new(&mut this.file).poll_read(cx, &mut read))?;
        let n = read.filled().len();
        if n == 0 {
            return Poll::Ready(None);
        }
        // A file that grows while it is sent would break the announced length.
        let p = this
            .meter
            .add(n)
            .map_err(|e| io::Error::other(e.to_string()))?;
        (this.progress)(p);
        Poll::Ready(Some(Ok(read.filled().to_vec())))
    }
}

/// Downloads `url` (`http` or `https` only) into the file `dest`, failing with
/// [`TransferError::TooLarge`] as soon as the size announced or received exceeds
/// `limit` bytes (a partial file is removed). Returns the number of bytes written. The
/// bytes go to `<dest>.part` (created new: the download fails if it exists), renamed
/// to `dest` once complete.
///
/// Only a `200` answer is the file. Up to [`MAX_REDIRECTS`] redirects are followed,
/// each to an `http(s)` URL and never from `https` to `http` ([`redirect_target`]). The
/// whole download must end within [`transfer_deadline`] of its size (as announced, or
/// `limit`), and no read may wait more than 30 s.
pub async fn download(
    url: &str,
    dest: &Path,
    limit: u64,
    tls: &Tls,
    mut progress: impl FnMut(Progress),
) -> Result<u64, TransferError> {
    check_url(url)?;
    let started = tokio::time::Instant::now();
    let mut response = client(tls, checked_redirects())?
        .get(url)
        .timeout(transfer_deadline(limit))
        .send()
        .await
        .map_err(http_error)?;
    if response.status().as_u16() != 200 {
        return Err(TransferError::Status(response.status().as_u16()));
    }
    let total = response.content_length();
    let deadline = started + transfer_deadline(total.unwrap_or(limit).min(limit));
    let mut meter = Meter::new(total, Some(limit))?;
    // Written to `<dest>.part`, which is removed unless the download completes (also
    // when this future is dropped).
    let (part, out) = PartFile::create(dest)?;
    let mut out = tokio::fs::File::from_std(out);
    while let Some(chunk) = tokio::time::timeout_at(deadline, response.chunk())
        .await
        .map_err(|_| timed_out())?
        .map_err(http_error)?
    {
        let p = meter.add(chunk.len())?;
        out.write_all(&chunk).await?;
        progress(p);
    }
    out.flush().await?;
    let bytes = meter.finish()?;
    drop(out);
    part.finish()?;
    Ok(bytes)
}

/// The "trivial server" of §8: one file over HTTP at an unguessable path.
/// [`serve`](Self::serve) runs it until one receiver has downloaded the file whole;
/// dropping the server, or the future `serve` returned, closes its listening socket.
#[derive(Debug)]
pub struct FileServer {
    listener: TcpListener,
    served: ServedFile,
    path: std::path::PathBuf,
    addr: SocketAddr,
}

impl FileServer {
    /// Listens on `addr` (port 0 picks a free one) to serve the file at `path`, with
    /// `content_type` if given. Nothing is served until [`serve`](Self::serve) runs.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        path: &Path,
        content_type: Option<&str>,
    ) -> io::Result<FileServer> {
        let len = tokio::fs::metadata(path).await?.len();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(FileServer {
            listener,
            served: ServedFile::new(&name, len, content_type),
            path: path.to_path_buf(),
            addr,
        })
    }

    /// The URL to send the receiver.
    pub fn url(&self) -> String {
        self.served.url(self.addr)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL as an out-of-band payload with a description.
    pub fn oob(&self, desc: Option<&str>) -> Oob {
        Oob {
            url: self.url(),
            desc: desc.map(String::from),
        }
    }

    /// Serves requests, up to [`MAX_CONNECTIONS`] at once (each must send its request
    /// head within [`HEAD_DEADLINE`], and a download fails once the receiver takes no
    /// bytes for 30 s; a slow but steady one may take as long as it needs), until one
    /// has downloaded the whole file (as far as the socket can tell: every byte written
    /// and the receiver's side closed cleanly after them; only the receiver's iq:oob
    /// answer says it has the file); then the socket is closed and the outcome returned.
    /// Cancel-safe in the sense that matters: dropping the future ends the transfer,
    /// cuts the connections under way and closes the socket.
    pub async fn serve(self, progress: impl FnMut(Progress)) -> io::Result<ServeOutcome> {
        let progress = Mutex::new(progress);
        let start = |stream| Box::pin(serve_one(stream, &self.path, &self.served, &progress));
        let mut live = slots_for(&start);
        loop {
            let step = std::future::poll_fn(|cx| {
                for i in 0..live.len() {
                    if let Poll::Ready(one) = live[i].as_mut().poll(cx) {
                        drop(live.swap_remove(i));
                        return Poll::Ready(Step::Served(one));
                    }
                }
                if live.len() < MAX_CONNECTIONS {
                    if let Poll::Ready(accepted) = self.listener.poll_accept(cx) {
                        return Poll::Ready(Step::Accepted(accepted));
                    }
                }
                Poll::Pending
            })
            .await;
            match step {
                Step::Served(Ok(Some(bytes))) => return Ok(ServeOutcome::Completed { bytes }),
                Step::Served(_) => {}
                Step::Accepted(Ok((stream, _))) => live.push(start(stream)),
                // Out of descriptors or a connection reset while queued: try the next.
                Step::Accepted(Err(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
}

/// Room for the connections `start` begins (it names their future's type).
fn slots_for<F>(_start: &impl Fn(TcpStream) -> F) -> Vec<F> {
    Vec::with_capacity(MAX_CONNECTIONS)
}

/// What the server's loop woke for.
enum Step {
    Served(io::Result<Option<u64>>),
    Accepted(io::Result<(TcpStream, SocketAddr)>),
}

/// How many requests the trivial server serves at once (more wait to be accepted).
pub const MAX_CONNECTIONS: usize = 4;

/// How long a peer has to send its whole request head.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// `io` within `limit`, or a time-out error.
async fn within<T>(limit: Duration, io: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(limit, io)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

/// One request: `Some(bytes)` when it was a complete download of the file.
async fn serve_one(
    mut stream: TcpStream,
    path: &Path,
    served: &ServedFile,
    progress: &Mutex<impl FnMut(Progress)>,
) -> io::Result<Option<u64>> {
    let mut buf = [0; 1024];
    // The whole head within the deadline, however slowly it drips.
    let answer = within(HEAD_DEADLINE, async {
        let mut head = Vec::new();
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            head.extend_from_slice(&buf[..n]);
            if let Some(end) = head_end(&head) {
                return Ok(Some(served.answer(&head[..end])));
            }
            if head.len() > MAX_REQUEST_HEAD {
                return Ok(Some(served.too_long()));
            }
        }
    })
    .await?;
    let Some(answer): Option<Answer> = answer else {
        return Ok(None);
    };
    within(HTTP_TIMEOUT, stream.write_all(&answer.head)).await?;
    if !answer.body {
        return Ok(None);
    }
    let mut file = tokio::fs::File::open(path).await?;
    let mut meter = Meter::new(Some(served.len()), None).map_err(io::Error::other)?;
    let mut chunk = vec![0; CHUNK];
    loop {
        let n = file.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        let p = meter.add(n).map_err(io::Error::other)?;
        // No deadline on the whole download: only on each write's progress. One
        // `write` at a time, so the deadline measures inactivity (as std's write
        // timeout does), not how long a slow but steady reader takes for a chunk.
        let mut sent = 0;
        while sent < n {
            let w = within(HTTP_TIMEOUT, stream.write(&chunk[sent..n])).await?;
            if w == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            sent += w;
        }
        if let Ok(mut report) = progress.lock() {
            report(p);
        }
    }
    within(HTTP_TIMEOUT, stream.flush()).await?;
    let bytes = meter.finish().map_err(io::Error::other)?;
    // Written is not received: the bytes may still sit in the sockets' buffers. A
    // receiver that read them all closes its side cleanly (we said `Connection: close`);
    // one that gave up closes with unread data, which resets the connection.
    within(HTTP_TIMEOUT, stream.shutdown()).await?;
    // Whatever it still sends (nothing, or a stray byte) before its end is ignored.
    let _more = within(HTTP_TIMEOUT, stream.read(&mut buf)).await?;
    Ok(Some(bytes))
}
