//! File transfer (the cheat sheet's §8) over HTTP, blocking: the core negotiates
//! (`jabber:iq:oob`, `jabber:x:oob`, HTTP File Upload), this module moves the bytes.
//!
//! - [`upload`]: PUT a file to an upload slot (XEP-0363) with the slot's headers;
//! - [`download`]: GET an `http(s)` URL into a file, within a size limit;
//! - [`FileServer`]: the "trivial server" — one file served over HTTP on a chosen
//!   address for the duration of one transfer;
//! - on [`Connection`]: the whole exchanges ([`Connection::upload_file`],
//!   [`Connection::send_file_served`], [`Connection::receive_offer`], ...).
//!
//! HTTPS uses the same rustls configuration as the XMPP connection ([`Tls`]): the roots
//! it trusts, and any CA added to it.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jabber_net::Tls;
use jabber_net::transfer::served::{Answer, MAX_REQUEST_HEAD, ServedFile, head_end};
pub use jabber_net::transfer::{MAX_REDIRECTS, redirect_target, transfer_deadline};
use jabber_net::transfer::{Meter, PartFile, check_url};
pub use jabber_net::transfer::{Progress, TransferError, served::ServeOutcome};
/// Where a received file goes: a name from its URL, in a folder, never replacing a file.
pub use jabber_net::transfer::{create_free, file_name_from_url, free_path};
use jabber_proto::client::{Event, TransferEvent};
use jabber_proto::features::files::{
    Oob, OobOffer, OobRefusal, UploadError, UploadFile, UploadService, UploadSlot,
};
use jabber_proto::jid::Jid;

use crate::Connection;

/// How long an HTTP peer may stay silent before the transfer fails.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const CHUNK: usize = 64 * 1024;

/// How long [`Connection::send_file_served`] waits for the receiver's answer, which
/// comes after its download.
pub const OFFER_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn agent(tls: &Tls) -> Result<ureq::Agent, TransferError> {
    let config = tls.client_config().map_err(TransferError::Session)?;
    // Redirects are followed by `download` itself (checked hop by hop), never for a PUT.
    Ok(ureq::AgentBuilder::new()
        .tls_config(config)
        .redirects(0)
        .timeout_connect(Duration::from_secs(10))
        .timeout_read(HTTP_TIMEOUT)
        .timeout_write(HTTP_TIMEOUT)
        .build())
}

/// Fails once `deadline` has passed: each read or write is bounded by
/// [`HTTP_TIMEOUT`], the whole transfer by this.
fn check_deadline(deadline: Instant) -> io::Result<()> {
    if Instant::now() > deadline {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the transfer took too long",
        ))
    } else {
        Ok(())
    }
}

fn http_error(e: ureq::Error) -> TransferError {
    match e {
        ureq::Error::Status(code, _) => TransferError::Status(code),
        ureq::Error::Transport(t) => TransferError::Http(t.to_string()),
    }
}

/// PUTs the file at `path` to `slot` with the slot's headers (and `content_type`, which
/// some services check against the slot request), reporting progress as it goes. The
/// file must have the size the slot was asked for. Only `200` or `201` means stored
/// (a redirect is not followed: it fails with [`TransferError::Status`]); the whole
/// upload must end within [`transfer_deadline`] of its size.
pub fn upload(
    slot: &UploadSlot,
    path: &Path,
    content_type: Option<&str>,
    tls: &Tls,
    mut progress: impl FnMut(Progress),
) -> Result<(), TransferError> {
    check_url(&slot.put_url)?;
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut request = agent(tls)?
        .put(&slot.put_url)
        .set("Content-Length", &len.to_string());
    if let Some(kind) = content_type {
        request = request.set("Content-Type", kind);
    }
    for (header, value) in &slot.put_headers {
        request = request.set(header.name(), value);
    }
    let reader = Counting {
        inner: file,
        meter: Meter::new(Some(len), None)?,
        progress: &mut progress,
        deadline: Instant::now() + transfer_deadline(len),
    };
    let response = request.send(reader).map_err(http_error)?;
    match response.status() {
        200 | 201 => Ok(()),
        other => Err(TransferError::Status(other)),
    }
}

/// A reader that reports what was read.
struct Counting<'a, R, P: FnMut(Progress)> {
    inner: R,
    meter: Meter,
    progress: &'a mut P,
    deadline: Instant,
}

impl<R: Read, P: FnMut(Progress)> Read for Counting<'_, R, P> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        check_deadline(self.deadline)?;
        let n = self.inner.read(buf)?;
        // A file that grows while it is sent would break the announced length.
        let p = self
            .meter
            .add(n)
            .map_err(|e| io::Error::other(e.to_string()))?;
        if n > 0 {
            (self.progress)(p);
        }
        Ok(n)
    }
}

/// Downloads `url` (`http` or `https` only) into the file `dest`, failing with
/// [`TransferError::TooLarge`] as soon as the size announced or received exceeds
/// `limit` bytes (nothing is left behind then: a partial file is removed). Returns the
/// number of bytes written. The bytes go to `<dest>.part` (created new: the download
/// fails if it exists), renamed to `dest` once complete.
///
/// Only a `200` answer is the file. Up to [`MAX_REDIRECTS`] redirects are followed,
/// each to an `http(s)` URL and never from `https` to `http` ([`redirect_target`]). The
/// whole download must end within [`transfer_deadline`] of its size (as announced, or
/// `limit`), on top of the 30 s any single read may take.
pub fn download(
    url: &str,
    dest: &Path,
    limit: u64,
    tls: &Tls,
    mut progress: impl FnMut(Progress),
) -> Result<u64, TransferError> {
    check_url(url)?;
    let agent = agent(tls)?;
    let mut url = url.to_owned();
    let mut hops = 0;
    let response = loop {
        let response = agent.get(&url).call().map_err(http_error)?;
        match (response.status(), response.header("Location")) {
            (200, _) => break response,
            (301 | 302 | 303 | 307 | 308, Some(location)) if hops < MAX_REDIRECTS => {
                url = redirect_target(&url, location)?;
                hops += 1;
            }
            (other, _) => return Err(TransferError::Status(other)),
        }
    };
    let total = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse().ok());
    let mut meter = Meter::new(total, Some(limit))?;
    let deadline = Instant::now() + transfer_deadline(total.unwrap_or(limit).min(limit));
    let mut reader = response.into_reader();
    // Written to `<dest>.part`, which is removed unless the download completes.
    let (part, mut out) = PartFile::create(dest)?;
    let mut buf = vec![0; CHUNK];
    loop {
        check_deadline(deadline)?;
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let p = meter.add(n)?;
        out.write_all(&buf[..n])?;
        progress(p);
    }
    out.flush()?;
    let bytes = meter.finish()?;
    drop(out);
    part.finish()?;
    Ok(bytes)
}

/// The "trivial server" of §8: serves one file over HTTP on a chosen address, at an
/// unguessable path, until one receiver has downloaded it whole or it is stopped. Its
/// listening socket is closed when it ends: after the download, on
/// [`stop`](Self::stop), or when dropped.
///
/// "Whole" is as far as the socket can tell: every byte written and the receiver's side
/// closed cleanly after them (a receiver that gives up with bytes unread resets the
/// connection, and the server goes on). Only the receiver's answer — the iq:oob result
/// — says it has the file.
///
/// At most [`MAX_CONNECTIONS`] requests are served at once (more are closed at once),
/// each must send its request head within [`HEAD_DEADLINE`], and stopping cuts the
/// connections under way: a silent or slow peer can neither hold the server nor delay
/// [`stop`](Self::stop).
#[derive(Debug)]
pub struct FileServer {
    addr: SocketAddr,
    url: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<ServeOutcome>>,
}

/// How many requests the trivial server serves at once.
pub const MAX_CONNECTIONS: usize = 4;

/// How long a peer has to send its whole request head.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// What the server's threads and its owner share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    /// Clones of the connections being served, so that stopping can cut them.
    live: Mutex<Vec<(u64, TcpStream)>>,
    /// The size of the first complete download.
    completed: Mutex<Option<u64>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Vec<(u64, TcpStream)>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets the stop flag, cuts every connection under way and wakes the accept.
    fn stop(&self, addr: SocketAddr) {
        self.stop.store(true, Ordering::SeqCst);
        for (_, stream) in self.live().iter() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        // Wakes the blocking accept; the thread sees the flag and returns.
        let ip = match addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(a) if a.ip().is_unspecified() => Ipv6Addr::LOCALHOST.into(),
            a => a.ip(),
        };
        let _ = TcpStream::connect_timeout(&SocketAddr::new(ip, addr.port()), HTTP_TIMEOUT);
    }
}

impl FileServer {
    /// Serves the file at `path` on `addr` (port 0 picks a free one; the URL names the
    /// address as bound, so listen on the address the receiver will reach).
    pub fn start(addr: impl ToSocketAddrs, path: &Path) -> io::Result<FileServer> {
        Self::start_with_progress(addr, path, None, |_| {})
    }

    /// Like [`start`](Self::start), with a media type for the response and a progress
    /// callback (called on the server's threads as bytes go out).
    pub fn start_with_progress(
        addr: impl ToSocketAddrs,
        path: &Path,
        content_type: Option<&str>,
        progress: impl FnMut(Progress) + Send + 'static,
    ) -> io::Result<FileServer> {
        let len = fs::metadata(path)?.len();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let served = ServedFile::new(&name, len, content_type);
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let url = served.url(addr);
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = shared.clone();
            let path = path.to_path_buf();
            std::thread::Builder::new()
                .name("jabber-file-server".into())
                .spawn(move || serve(listener, addr, path, served, shared, progress))?
        };
        Ok(FileServer {
            addr,
            url,
            shared,
            thread: Some(thread),
        })
    }

    /// The URL to send the receiver.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL as an out-of-band payload with a description.
    pub fn oob(&self, desc: Option<&str>) -> Oob {
        Oob {
            url: self.url.clone(),
            desc: desc.map(String::from),
        }
    }

    /// Whether the transfer is over (the file was downloaded whole).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Ends the transfer: downloads under way are cut, the socket closed. Returns how
    /// it ended ([`ServeOutcome::Completed`] if the file had been downloaded whole).
    pub fn stop(mut self) -> ServeOutcome {
        self.shut()
    }

    fn shut(&mut self) -> ServeOutcome {
        let Some(thread) = self.thread.take() else {
            return ServeOutcome::Stopped;
        };
        if !thread.is_finished() {
            self.shared.stop(self.addr);
        }
        thread.join().unwrap_or(ServeOutcome::Stopped)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.shut();
    }
}

/// The server's accept thread: each request on a thread of its own (at most
/// [`MAX_CONNECTIONS`]), until a complete download or stop.
fn serve<P: FnMut(Progress) + Send + 'static>(
    listener: TcpListener,
    addr: SocketAddr,
    path: PathBuf,
    served: ServedFile,
    shared: Arc<Shared>,
    progress: P,
) -> ServeOutcome {
    let path = Arc::new(path);
    let served = Arc::new(served);
    let progress = Arc::new(Mutex::new(progress));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;
    while !shared.stopping() {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            // Out of descriptors or a connection reset while queued: try the next.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        workers.retain(|w| !w.is_finished());
        if shared.stopping() || workers.len() >= MAX_CONNECTIONS {
            // Busy: this one is closed unanswered (dropped).
            continue;
        }
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        let id = next_id;
        next_id += 1;
        shared.live().push((id, clone));
        let (own, path, served, progress) = (
            shared.clone(),
            path.clone(),
            served.clone(),
            progress.clone(),
        );
        let worker = std::thread::Builder::new()
            .name("jabber-file-server-conn".into())
            .spawn(move || {
                let mut report = |p| {
                    if let Ok(mut f) = progress.lock() {
                        f(p);
                    }
                };
                let leave = || own.live().retain(|(i, _)| *i != id);
                let one = serve_one(stream, &path, &served, &own.stop, &mut report, leave);
                own.live().retain(|(i, _)| *i != id);
                if let Ok(Some(bytes)) = one {
                    let mut completed = own
                        .completed
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    completed.get_or_insert(bytes);
                    drop(completed);
                    own.stop(addr);
                }
            });
        match worker {
            Ok(w) => workers.push(w),
            Err(_) => shared.live().retain(|(i, _)| *i != id),
        }
    }
    drop(listener);
    // Stopped (or complete): whatever is still under way is cut.
    for (_, stream) in shared.live().iter() {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    for w in workers {
        let _ = w.join();
    }
    let completed = *shared
        .completed
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match completed {
        Some(bytes) => ServeOutcome::Completed { bytes },
        None => ServeOutcome::Stopped,
    }
}

/// One request: `Some(bytes)` when it was a complete download of the file.
fn serve_one(
    mut stream: TcpStream,
    path: &Path,
    served: &ServedFile,
    stop: &AtomicBool,
    progress: &mut impl FnMut(Progress),
    leave: impl FnOnce(),
) -> io::Result<Option<u64>> {
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    // The whole head within the deadline, however slowly it drips.
    let deadline = Instant::now() + HEAD_DEADLINE;
    let answer: Answer = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head_end(&head) {
            break served.answer(&head[..end]);
        }
        if head.len() > MAX_REQUEST_HEAD {
            break served.too_long();
        }
    };
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.write_all(&answer.head)?;
    if !answer.body {
        return Ok(None);
    }
    let mut file = File::open(path)?;
    let mut meter = Meter::new(Some(served.len()), None).map_err(io::Error::other)?;
    let mut chunk = vec![0; CHUNK];
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let n = file.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        let p = meter.add(n).map_err(io::Error::other)?;
        stream.write_all(&chunk[..n])?;
        progress(p);
    }
    stream.flush()?;
    let bytes = meter.finish().map_err(io::Error::other)?;
    // All written: a stop no longer cuts this connection (see below).
    leave();
    // Written is not received: the bytes may still sit in the sockets' buffers. A
    // receiver that read them all closes its side cleanly (we said `Connection: close`);
    // one that gave up closes with unread data, which resets the connection.
    stream.shutdown(std::net::Shutdown::Write)?;
    // Whatever it still sends (nothing, or a stray byte) before its end is ignored. A
    // stop does not cut this wait (the receiver may be reading its last bytes) but
    // bounds it to DRAIN_GRACE.
    stream.set_read_timeout(Some(DRAIN_POLL))?;
    let waiting = Instant::now();
    let mut stop_seen: Option<Instant> = None;
    loop {
        match stream.read(&mut buf) {
            Ok(_) => return Ok(Some(bytes)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    let since = *stop_seen.get_or_insert_with(Instant::now);
                    if since.elapsed() >= DRAIN_GRACE {
                        return Ok(None);
                    }
                }
                if waiting.elapsed() >= HTTP_TIMEOUT {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// How often a connection whose bytes are all written looks at the stop flag.
const DRAIN_POLL: Duration = Duration::from_millis(100);
/// How long after a stop such a connection may still end cleanly (and count).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// The transfer exchanges on a logged-in connection. Each waits for its own outcome;
/// other events stay queued for [`next_event`](Connection::next_event).
impl Connection {
    /// Looks for our server's HTTP upload service (XEP-0363).
    pub fn find_upload_service(&mut self) -> Result<Option<UploadService>, TransferError> {
        let id = self.with_client(|c, now| c.find_upload_service(now))??;
        let event = self.wait_for(|e| {
            matches!(e, Event::Transfer(TransferEvent::UploadService { id: i, .. }) if *i == id)
        })?;
        match event {
            Event::Transfer(TransferEvent::UploadService { service, .. }) => {
                Ok(service.map(|s| *s))
            }
            _ => Ok(None),
        }
    }

    /// Asks `service` for a slot for `file`.
    pub fn request_upload_slot(
        &mut self,
        service: &Jid,
        file: &UploadFile,
    ) -> Result<UploadSlot, TransferError> {
        let id = self.with_client(|c, now| c.request_upload_slot(now, service, file))??;
        let event = self.wait_for(|e| match e {
            Event::Transfer(TransferEvent::Slot { id: i, .. })
            | Event::Transfer(TransferEvent::SlotFailed { id: i, .. }) => *i == id,
            _ => false,
        })?;
        match event {
            Event::Transfer(TransferEvent::Slot { slot, .. }) => Ok(*slot),
            Event::Transfer(TransferEvent::SlotFailed { error, .. }) => {
                Err(TransferError::SlotRefused(error))
            }
            _ => Err(TransferError::SlotRefused(UploadError::Malformed)),
        }
    }

    /// Uploads the file at `path` through our server's upload service: finds the
    /// service, checks its size limit, asks for a slot and PUTs the file. Returns the URL
    /// to send the receiver (e.g. with [`MessageBuilder::oob`](jabber_proto::stanza::MessageBuilder::oob)).
    ///
    /// The PUT blocks this thread, and so this XMPP connection, which is not served
    /// meanwhile: it must end within [`transfer_deadline`] of the file's size. Use
    /// [`upload`] on another thread (with a slot from
    /// [`request_upload_slot`](Self::request_upload_slot)) to keep the connection served.
    pub fn upload_file(
        &mut self,
        path: &Path,
        content_type: Option<&str>,
        tls: &Tls,
        progress: impl FnMut(Progress),
    ) -> Result<String, TransferError> {
        let service = self
            .find_upload_service()?
            .ok_or(TransferError::NoUploadService)?;
        let size = fs::metadata(path)?.len();
        if let Some(max) = service.max_file_size.filter(|&max| size > max) {
            return Err(TransferError::TooLarge { limit: max });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let mut file = UploadFile::new(&name, size);
        file.content_type = content_type.map(String::from);
        let slot = self.request_upload_slot(&service.jid, &file)?;
        upload(&slot, path, content_type, tls, progress)?;
        Ok(slot.get_url)
    }

    /// Offers `oob` to `to` (a full address) in a `jabber:iq:oob` set and waits for the
    /// answer: `Ok` once the receiver says it has the file.
    pub fn offer_oob(&mut self, to: &Jid, oob: &Oob) -> Result<(), TransferError> {
        let id = self.with_client(|c, now| c.offer_oob(now, to, oob))??;
        self.offer_answer(id)
    }

    /// Like [`offer_oob`](Self::offer_oob), waiting at most `timeout` for the answer
    /// (the core's IQ timeout is for protocol exchanges, not downloads).
    pub fn offer_oob_within(
        &mut self,
        to: &Jid,
        oob: &Oob,
        timeout: Duration,
    ) -> Result<(), TransferError> {
        let id = self.with_client(|c, now| c.offer_oob_within(now, to, oob, timeout))??;
        self.offer_answer(id)
    }

    fn offer_answer(&mut self, id: jabber_proto::client::IqId) -> Result<(), TransferError> {
        // The answer comes after the receiver's download: however many other events
        // arrive meanwhile, they stay queued rather than failing the transfer.
        let event = self.wait_for_keeping(|e| match e {
            Event::Transfer(TransferEvent::OfferAccepted { id: i })
            | Event::Transfer(TransferEvent::OfferRefused { id: i, .. }) => *i == id,
            _ => false,
        })?;
        match event {
            Event::Transfer(TransferEvent::OfferAccepted { .. }) => Ok(()),
            Event::Transfer(TransferEvent::OfferRefused { error, .. }) => {
                Err(TransferError::OfferRefused(error))
            }
            _ => Err(TransferError::OfferRefused(None)),
        }
    }

    /// Sends a file with the trivial server: offers `server`'s URL to `to` and waits for
    /// the answer, then stops the server (the receiver fetched it, or declined). The
    /// server never outlives the call. The receiver must answer within
    /// [`OFFER_TIMEOUT`].
    pub fn send_file_served(
        &mut self,
        to: &Jid,
        server: FileServer,
        desc: Option<&str>,
    ) -> Result<ServeOutcome, TransferError> {
        let answer = self.offer_oob_within(to, &server.oob(desc), OFFER_TIMEOUT);
        let outcome = server.stop();
        answer.map(|()| outcome)
    }

    /// Receives an offer: downloads its URL into `dir` (under a name taken from the
    /// URL, never outside `dir`, never replacing a file there), within `limit` bytes,
    /// then accepts it. A refused download — too large, or not an `http(s)` URL — is
    /// declined (406); one that failed otherwise is refused as not found (404); either
    /// way the error is returned. Returns the file's path.
    ///
    /// The download blocks this thread, and so this XMPP connection, which is not served
    /// meanwhile (pings go unanswered; events wait in the socket): it must end within
    /// [`transfer_deadline`] of `limit`. Use [`download`] on another thread to keep
    /// the connection served.
    pub fn receive_offer(
        &mut self,
        offer: &OobOffer,
        dir: &Path,
        limit: u64,
        tls: &Tls,
        progress: impl FnMut(Progress),
    ) -> Result<PathBuf, TransferError> {
        let refuse = |this: &mut Self, error: &TransferError| {
            let why = match error {
                TransferError::TooLarge { .. } | TransferError::BadUrl(_) => OobRefusal::Declined,
                _ => OobRefusal::NotFound,
            };
            this.with_client(|c, now| c.refuse_oob(now, offer, why))
        };
        if let Err(e) = check_url(offer.url()) {
            refuse(self, &e)??;
            return Err(e);
        }
        // The name is taken now (an empty file), the bytes land under it at the end.
        let dest = match create_free(dir, &file_name_from_url(offer.url())) {
            Ok((dest, _)) => dest,
            Err(e) => {
                // Nowhere to put it: the sender is told now, not at its timeout.
                let e = TransferError::from(e);
                refuse(self, &e)??;
                return Err(e);
            }
        };
        match download(offer.url(), &dest, limit, tls, progress) {
            Ok(_) => {
                self.with_client(|c, now| c.accept_oob(now, offer))??;
                Ok(dest)
            }
            Err(e) => {
                let _ = fs::remove_file(&dest);
                refuse(self, &e)??;
                Err(e)
            }
        }
    }

    /// Declines an offer (406 `not-acceptable`).
    pub fn decline_offer(&mut self, offer: &OobOffer) -> Result<(), TransferError> {
        self.with_client(|c, now| c.refuse_oob(now, offer, OobRefusal::Declined))??;
        Ok(())
    }
}
