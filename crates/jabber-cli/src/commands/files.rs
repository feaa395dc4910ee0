//! `jabber sendfile` and `jabber receive` (the cheat sheet's §8): the URL of a file
//! uploaded to the server's HTTP upload service, sent as `jabber:x:oob`, or an
//! iq:oob offer of a file this process serves over HTTP until it has been fetched.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use jabber_tokio::jabber_proto::client::TransferEvent;
use jabber_tokio::jabber_proto::features::files::{Oob, OobRefusal, UploadFile};
use jabber_tokio::{Event, FileServer, Message, StanzaEvent};

use super::{Result, Stop, parse_jid};
use crate::args::{Common, Receive, Sendfile};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;
use crate::session::Session;

/// A progress bar on standard error when it is a terminal; a hidden one otherwise.
fn bar(total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total.unwrap_or(0));
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// How many offers and links that came during a download are kept for after it; more
/// offers are declined at once, more links ignored.
const MAX_LATER: usize = 64;

/// Waits for `work` while the connection keeps running (keepalives, the server's acks);
/// the connection ending first is a failure. Events that carry files are kept in
/// `later` (offers that arrive during a download are not lost).
async fn beside<T>(
    session: &mut Session,
    work: impl Future<Output = T>,
    later: &mut VecDeque<Event>,
) -> Result<T, Failure> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return Ok(out),
            event = session.conn.next_event() => match event? {
                None => return Err(Failure::new("the connection ended")),
                Some(Event::Closed(reason)) => {
                    return Err(Failure::new(format!("the connection ended: {reason}")));
                }
                Some(Event::Transfer(TransferEvent::Offer(offer))) => {
                    if later.len() < MAX_LATER {
                        later.push_back(Event::Transfer(TransferEvent::Offer(offer)));
                    } else {
                        // No room to keep it: declined now, not left to the sender's
                        // timeout.
                        session.command(|c, now| {
                            c.refuse_oob(now, &offer, OobRefusal::Declined)
                        })?;
                    }
                }
                Some(Event::Stanza(StanzaEvent::Message(m)))
                    if m.oob().is_some() && later.len() < MAX_LATER =>
                {
                    later.push_back(Event::Stanza(StanzaEvent::Message(m)));
                }
                Some(_) => {}
            },
        }
    }
}

/// Sends a file: uploaded (the default), or served from `--serve ADDR`.
pub(crate) async fn send(common: &Common, args: Sendfile) -> Result {
    let to = parse_jid(&args.to)?;
    let size = std::fs::metadata(&args.path)
        .map_err(|e| Failure::new(format!("{}: {e}", args.path.display())))?
        .len();
    if args.serve.is_some() && to.resource().is_none() {
        return Err(Failure::new(format!(
            "--serve offers the file to one session: give the full address ({}/RESOURCE; \
             `jabber receive` prints it)",
            args.to
        ))
        .into());
    }
    let mut session = connect::login(common, Needs::default()).await?;
    let url = match &args.serve {
        None => upload(common, &mut session, &args.path, size).await?,
        Some(addr) => {
            let how = Serving {
                addr,
                url_host: args.url_host.as_deref(),
                desc: args.desc.as_deref(),
            };
            serve(&mut session, &to, &args.path, how).await?
        }
    };
    if args.serve.is_none() {
        // The URL as the body too, for clients that do not read the out-of-band payload.
        let m = Message::chat(&to)
            .body(&url)
            .oob(&url, args.desc.as_deref())
            .build()?;
        session.conn.send(m)?;
        session.settle().await?;
    }
    let json = session.json;
    session.logout().await?;
    if json {
        Record::new("sent-file", "")
            .field("to", Some(to.as_str()))
            .field("url", Some(url))
            .field("bytes", Some(size))
            .print(true)?;
    }
    Ok(())
}

/// Uploads the file to the server's HTTP upload service; the URL to fetch it from.
async fn upload(
    common: &Common,
    session: &mut Session,
    path: &Path,
    size: u64,
) -> Result<String, Failure> {
    let id = session.command(|c, now| c.find_upload_service(now))?;
    let service = session
        .wait_for(|e| match e {
            Event::Transfer(TransferEvent::UploadService { id: got, service }) if got == id => {
                Some(service)
            }
            _ => None,
        })
        .await?
        .ok_or_else(|| {
            Failure::new(
                "the server has no HTTP upload service (--serve ADDR serves the file from here)",
            )
        })?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::new(format!("{}: not a file name", path.display())))?;
    let file = UploadFile::new(name, size);
    let id = session.command(|c, now| c.request_upload_slot(now, &service.jid, &file))?;
    let slot = session
        .wait_for(|e| match e {
            Event::Transfer(TransferEvent::Slot { id: got, slot }) if got == id => Some(Ok(slot)),
            Event::Transfer(TransferEvent::SlotFailed { id: got, error }) if got == id => {
                Some(Err(error))
            }
            _ => None,
        })
        .await?
        .map_err(|e| Failure::new(format!("the upload service refused the file: {e:?}")))?;
    let tls = connect::http_tls(common)?;
    let progress = bar(Some(size));
    let shown = progress.clone();
    let put = jabber_tokio::upload(&slot, path, None, &tls, move |p| shown.set_position(p.done));
    let done = beside(session, put, &mut VecDeque::new()).await?;
    progress.finish_and_clear();
    done.map_err(|e| Failure::new(format!("upload failed: {e}")))?;
    Ok(slot.get_url.clone())
}

/// How long an offer of a served file waits for the receiver's answer, which comes
/// once it has the whole file: ten minutes, more for a file that takes longer at
/// 100 kB/s.
fn offer_timeout(size: u64) -> Duration {
    const FLOOR: Duration = Duration::from_secs(10 * 60);
    FLOOR.max(Duration::from_secs(size / 100_000))
}

/// How long a download may go without a byte before the sender gives up on it once the
/// offer's own wait is over.
const STALLED: Duration = Duration::from_secs(60);

/// `--serve` and what goes with it.
struct Serving<'a> {
    /// Where to listen.
    addr: &'a str,
    /// `--url-host`.
    url_host: Option<&'a str>,
    /// `--desc`.
    desc: Option<&'a str>,
}

/// Serves the file as `how` says and offers it to `to` until it was fetched.
async fn serve(
    session: &mut Session,
    to: &jabber_tokio::Jid,
    path: &Path,
    how: Serving<'_>,
) -> Result<String, Failure> {
    let addr = how.addr;
    let server = FileServer::bind(addr, path, None)
        .await
        .map_err(|e| Failure::new(format!("cannot serve from {addr}: {e}")))?;
    let listening = server.local_addr();
    // "0.0.0.0" in a URL is no place the recipient can fetch from.
    let host = match how.url_host {
        Some(host) => Some(host.to_owned()),
        None if listening.ip().is_unspecified() => Some(
            session
                .conn
                .local_addr()
                .map_err(|e| Failure::new(format!("--serve {addr}: no address to give: {e}")))?
                .ip()
                .to_string(),
        ),
        None => None,
    };
    let url = match host {
        Some(host) => with_host(&server.url(), &host, listening.port()),
        None => server.url(),
    };
    let oob = Oob {
        url: url.clone(),
        desc: how.desc.map(str::to_owned),
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let id = session.command(|c, now| c.offer_oob_within(now, to, &oob, offer_timeout(size)))?;
    let progress = bar(Some(size));
    let shown = progress.clone();
    // When the server last sent a byte: a download still moving outlasts the offer's
    // wait.
    let moved = Rc::new(Cell::new(None::<Instant>));
    let moving = moved.clone();
    let serving = server.serve(move |p| {
        moving.set(Some(Instant::now()));
        shown.set_position(p.done);
    });
    tokio::pin!(serving);
    let mut served = false;
    // The offer's wait ran out while the file was still being fetched.
    let mut overtime = false;
    // One ticker for the whole wait: a sleep made anew each turn would be put off by
    // every unrelated event, and a stalled receiver never noticed.
    let mut stall_check = tokio::time::interval(STALLED / 4);
    loop {
        tokio::select! {
            out = &mut serving, if !served => {
                out.map_err(|e| Failure::new(format!("serving the file failed: {e}")))?;
                served = true;
                if overtime {
                    // The receiver has every byte; its answer is no longer awaited.
                    break;
                }
            }
            _ = stall_check.tick(), if overtime => {
                if moved.get().is_none_or(|t| t.elapsed() > STALLED) {
                    progress.finish_and_clear();
                    return Err(Failure::new(format!("{to} stopped fetching the file")));
                }
            }
            event = session.conn.next_event() => match event? {
                None => return Err(Failure::new("the connection ended")),
                Some(Event::Closed(reason)) => {
                    return Err(Failure::new(format!("the connection ended: {reason}")));
                }
                Some(Event::Transfer(TransferEvent::OfferAccepted { id: got })) if got == id => {
                    break;
                }
                Some(Event::Transfer(TransferEvent::OfferRefused { id: got, error: None }))
                    if got == id && !served && moved.get().is_some_and(|t| t.elapsed() <= STALLED) =>
                {
                    overtime = true;
                }
                Some(Event::Transfer(TransferEvent::OfferRefused { id: got, error })) if got == id => {
                    progress.finish_and_clear();
                    let why = error.map_or_else(|| "no answer".to_owned(), |e| e.to_string());
                    return Err(Failure::new(format!("{to} refused the file: {why}")));
                }
                Some(_) => {}
            },
        }
    }
    progress.finish_and_clear();
    Ok(url)
}

/// Waits for files (iq:oob offers, or messages carrying a URL out of band) and downloads
/// them into `--dir`.
pub(crate) async fn receive(common: &Common, args: Receive) -> Result {
    let timeout = super::timeout_arg(args.timeout)?;
    if !args.dir.is_dir() {
        return Err(Failure::new(format!("--dir {}: not a directory", args.dir.display())).into());
    }
    let senders = args
        .from
        .iter()
        .map(|s| super::parse_jid(s))
        .collect::<Result<Vec<_>, _>>()?;
    let tls = connect::http_tls(common)?;
    let mut session = connect::login(
        common,
        Needs {
            roster: false,
            presence: true,
            offers: true,
        },
    )
    .await?;
    // Where to send the file: a sender serving it needs our full address.
    Record::new("ready", format!("receiving as {}", session.me))
        .field("jid", Some(session.me.as_str()))
        .print(session.json)?;
    let deadline = super::deadline_after(timeout);
    let mut received = 0;
    // Offers and links that came during a download, taken in turn after it.
    let mut later = VecDeque::new();
    while received < args.count {
        let next = if let Some(event) = later.pop_front() {
            Ok(Some(event))
        } else {
            match deadline {
                Some(d) => match tokio::time::timeout_at(d, session.conn.next_event()).await {
                    Ok(next) => next,
                    Err(_) => {
                        session.logout().await?;
                        return Err(Stop::TimedOut);
                    }
                },
                None => session.conn.next_event().await,
            }
        };
        let (from, url, offer) = match next? {
            None => return Err(Failure::new("the connection ended").into()),
            Some(Event::Closed(reason)) => {
                return Err(Failure::new(format!("the connection ended: {reason}")).into());
            }
            Some(Event::Transfer(TransferEvent::Offer(offer))) => (
                offer.from().to_string(),
                offer.url().to_owned(),
                Some(offer),
            ),
            Some(Event::Stanza(StanzaEvent::Message(m))) => match m.oob() {
                Some(oob) => (
                    m.from().map(|f| f.to_string()).unwrap_or_default(),
                    oob.url,
                    None,
                ),
                None => continue,
            },
            Some(_) => continue,
        };
        if !senders.is_empty() && !senders.iter().any(|s| sent_by(&from, s)) {
            if let Some(offer) = &offer {
                session.command(|c, now| c.refuse_oob(now, offer, OobRefusal::Declined))?;
            }
            continue;
        }
        let dest = claim(&args.dir, &url)
            .map_err(|e| Failure::new(format!("--dir {}: {e}", args.dir.display())))?;
        let progress = bar(None);
        let shown = progress.clone();
        let get = jabber_tokio::download(&url, &dest, args.max_size, &tls, move |p| {
            if let Some(total) = p.total {
                shown.set_length(total);
            }
            shown.set_position(p.done);
        });
        let fetched = beside(&mut session, get, &mut later).await?;
        progress.finish_and_clear();
        match fetched {
            Ok(bytes) => {
                if let Some(offer) = &offer {
                    session.command(|c, now| c.accept_oob(now, offer))?;
                }
                Record::new("received", format!("{} from {from}", dest.display()))
                    .field("from", Some(from))
                    .field("path", Some(dest.display().to_string()))
                    .field("bytes", Some(bytes))
                    .field("url", Some(url))
                    .print(session.json)?;
                received += 1;
            }
            Err(e) => {
                // The name claimed for it, should the download have failed before
                // writing.
                let _ = std::fs::remove_file(&dest);
                if let Some(offer) = &offer {
                    session.command(|c, now| c.refuse_oob(now, offer, OobRefusal::NotFound))?;
                }
                eprintln!(
                    "jabber: {}",
                    crate::one_line(&format!("{url} from {from}: {e}"))
                );
            }
        }
    }
    // Offers kept for later that --count left no room for: declined, so their senders
    // need not wait for their timeouts.
    for event in later {
        if let Event::Transfer(TransferEvent::Offer(offer)) = event {
            session.command(|c, now| c.refuse_oob(now, &offer, OobRefusal::Declined))?;
        }
    }
    session.settle().await?;
    session.logout().await?;
    Ok(())
}

/// `url` (`http://ADDR/path`) with `host:port` in place of its address; an IPv6
/// address goes in brackets.
fn with_host(url: &str, host: &str, port: u16) -> String {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let path = rest.find('/').map_or("", |at| &rest[at..]);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.contains(':') {
        format!("http://[{host}]:{port}{path}")
    } else {
        format!("http://{host}:{port}{path}")
    }
}

/// Whether `from` (the sender's address as text) is `allowed`: the same address, or
/// any resource of an allowed bare one.
fn sent_by(from: &str, allowed: &jabber_tokio::Jid) -> bool {
    let Ok(from) = jabber_tokio::Jid::parse(from) else {
        return false;
    };
    if allowed.is_bare() {
        from.to_bare() == *allowed
    } else {
        from == *allowed
    }
}

/// Where a file from `url` goes in `dir`: its name from the URL (never a path outside
/// `dir`), made unique when taken, and created empty so that it is ours (never through
/// a file or link already there): the rules jabber-net keeps for every adapter.
fn claim(dir: &Path, url: &str) -> std::io::Result<PathBuf> {
    let name = jabber_net::transfer::file_name_from_url(url);
    jabber_net::transfer::create_free(dir, &name).map(|(path, _)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dangling_link_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("jabber-free-name-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let target = dir.join("elsewhere");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dir.join("f.txt")).expect("link");
        let got = claim(&dir, "http://h/f.txt").expect("a name");
        #[cfg(unix)]
        assert_eq!(got, dir.join("f-1.txt"));
        assert!(!target.exists(), "the link was followed");
        let inside = claim(&dir, "http://h/..%2F..%2Fx").expect("a name");
        assert_eq!(inside.parent(), Some(dir.as_path()), "{inside:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn served_offers_wait_for_large_files() {
        assert_eq!(offer_timeout(0), Duration::from_secs(600));
        assert_eq!(offer_timeout(5 << 20), Duration::from_secs(600));
        // 1 GB at 100 kB/s.
        assert_eq!(offer_timeout(1_000_000_000), Duration::from_secs(10_000));
    }

    #[test]
    fn advertised_host() {
        let url = "http://0.0.0.0:8080/a1b2/f.txt";
        assert_eq!(
            with_host(url, "files.example", 8080),
            "http://files.example:8080/a1b2/f.txt"
        );
        assert_eq!(
            with_host("http://[::]:81/x", "::1", 81),
            "http://[::1]:81/x"
        );
        assert_eq!(
            with_host(url, "[2001:db8::1]", 8080),
            "http://[2001:db8::1]:8080/a1b2/f.txt"
        );
    }

    #[test]
    fn senders_by_bare_or_full_address() {
        let bare = jabber_tokio::Jid::parse("a@x").expect("jid");
        let full = jabber_tokio::Jid::parse("a@x/r").expect("jid");
        assert!(sent_by("a@x/r", &bare));
        assert!(sent_by("a@x/r", &full));
        assert!(!sent_by("a@x/s", &full));
        assert!(!sent_by("b@x/r", &bare));
        assert!(!sent_by("", &bare));
    }
}
