//! What the adapters' file transfers (§8) share, so that jabber-std and jabber-tokio
//! differ only in their I/O: progress accounting and the size limit ([`Meter`]), which
//! URLs are fetched ([`check_url`]), a safe file name from a URL ([`file_name_from_url`]),
//! the errors ([`TransferError`]), and the trivial server's HTTP exchange ([`served`]).

pub mod served;

use std::path::{Path, PathBuf};
use std::{fmt, io};

use jabber_proto::features::files::UploadError;
use jabber_proto::stanza::StanzaError;

/// How far a transfer is: bytes moved, and the total when known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes moved so far.
    pub done: u64,
    /// The whole size, when known (a download without `Content-Length` has none).
    pub total: Option<u64>,
}

/// Why a transfer failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransferError {
    /// Reading or writing the local file, or the trivial server's socket.
    Io(io::Error),
    /// The URL is not an `http://` or `https://` URL.
    BadUrl(String),
    /// The HTTP exchange failed before a status (connection refused, certificate not
    /// trusted, ...), as the HTTP client said it.
    Http(String),
    /// The server answered with a status other than 2xx.
    Status(u16),
    /// The download is larger than the limit (as announced, or as it came).
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The body ended before the announced length.
    Incomplete {
        /// The announced length.
        expected: u64,
        /// What came.
        got: u64,
    },
    /// No upload service was found on the server.
    NoUploadService,
    /// The upload service gave no slot.
    SlotRefused(UploadError),
    /// The receiver refused our iq:oob offer (`None`: it did not answer in time).
    OfferRefused(Option<StanzaError>),
    /// The XMPP connection failed or a command was refused.
    Session(crate::Error),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Io(e) => write!(f, "file transfer: {e}"),
            TransferError::BadUrl(url) => write!(f, "not an http(s) URL: {url:?}"),
            TransferError::Http(e) => write!(f, "HTTP: {e}"),
            TransferError::Status(s) => write!(f, "the HTTP server answered {s}"),
            TransferError::TooLarge { limit } => {
                write!(f, "the file is larger than the limit of {limit} bytes")
            }
            TransferError::Incomplete { expected, got } => {
                write!(f, "the transfer ended after {got} of {expected} bytes")
            }
            TransferError::NoUploadService => f.write_str("the server has no HTTP upload service"),
            TransferError::SlotRefused(e) => write!(f, "no upload slot: {e}"),
            TransferError::OfferRefused(Some(e)) => write!(f, "the receiver refused: {e}"),
            TransferError::OfferRefused(None) => f.write_str("the receiver did not answer"),
            TransferError::Session(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TransferError {}

impl From<io::Error> for TransferError {
    fn from(e: io::Error) -> Self {
        TransferError::Io(e)
    }
}

impl From<crate::Error> for TransferError {
    fn from(e: crate::Error) -> Self {
        TransferError::Session(e)
    }
}

impl From<jabber_proto::client::Error> for TransferError {
    fn from(e: jabber_proto::client::Error) -> Self {
        TransferError::Session(crate::Error::Client(e))
    }
}

/// Counts the bytes of a transfer against its announced total and a limit.
#[derive(Clone, Debug)]
pub struct Meter {
    done: u64,
    total: Option<u64>,
    limit: Option<u64>,
}

impl Meter {
    /// A transfer of `total` bytes (if announced) that may not exceed `limit`: refused at
    /// once when the announced total already does.
    pub fn new(total: Option<u64>, limit: Option<u64>) -> Result<Meter, TransferError> {
        if let (Some(total), Some(limit)) = (total, limit) {
            if total > limit {
                return Err(TransferError::TooLarge { limit });
            }
        }
        Ok(Meter {
            done: 0,
            total,
            limit,
        })
    }

    /// `n` more bytes came (or went); an error as soon as they pass the limit, or the
    /// announced total (a server that sends more than it said).
    pub fn add(&mut self, n: usize) -> Result<Progress, TransferError> {
        self.done = self.done.saturating_add(n as u64);
        if let Some(limit) = self.limit {
            if self.done > limit {
                return Err(TransferError::TooLarge { limit });
            }
        }
        if let Some(total) = self.total {
            if self.done > total {
                return Err(TransferError::Incomplete {
                    expected: total,
                    got: self.done,
                });
            }
        }
        Ok(self.progress())
    }

    /// Where the transfer is.
    pub fn progress(&self) -> Progress {
        Progress {
            done: self.done,
            total: self.total,
        }
    }

    /// The byte count at the end: an error when an announced total was not reached.
    pub fn finish(&self) -> Result<u64, TransferError> {
        match self.total {
            Some(total) if total != self.done => Err(TransferError::Incomplete {
                expected: total,
                got: self.done,
            }),
            _ => Ok(self.done),
        }
    }
}

/// `Ok` for an absolute `http://` or `https://` URL: the only ones the adapters fetch
/// or upload to (an offered `file:` or `ftp:` URL is refused, not followed).
pub fn check_url(url: &str) -> Result<(), TransferError> {
    let scheme_end = url.find("://").unwrap_or(0);
    let scheme = &url[..scheme_end];
    let ok = (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && url.len() > scheme_end + 3
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(TransferError::BadUrl(url.to_owned()))
    }
}

/// How many redirects a download follows.
pub const MAX_REDIRECTS: usize = 5;

/// Where a redirect from `from` to `location` (its `Location` header, absolute or
/// relative) leads: an error unless it is an `http(s)` URL ([`check_url`]) and does not
/// go from `https` down to `http` (the receiver asked for a protected transfer).
pub fn redirect_target(from: &str, location: &str) -> Result<String, TransferError> {
    let location = location.trim();
    let scheme_end = from.find("://").map_or(0, |i| i + 3);
    let scheme = &from[..scheme_end];
    let authority_end = from[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(from.len(), |i| scheme_end + i);
    let target = if location.contains("://") {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}{rest}")
    } else if location.starts_with('/') {
        format!("{}{location}", &from[..authority_end])
    } else {
        // Relative to the folder of `from`'s path.
        let path = from[authority_end..].split(['?', '#']).next().unwrap_or("");
        let folder = path.rfind('/').map_or("/", |i| &path[..=i]);
        format!("{}{folder}{location}", &from[..authority_end])
    };
    check_url(&target)?;
    let secure = |url: &str| {
        url.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    };
    if secure(from) && !secure(&target) {
        return Err(TransferError::BadUrl(target));
    }
    Ok(target)
}

/// The longest a whole HTTP transfer of up to `bytes` bytes may take, however steadily
/// the peer moves: a minute, plus a second per 16 KiB, at most a day. The XMPP
/// connection of a blocking caller is not served meanwhile, so it must end.
pub fn transfer_deadline(bytes: u64) -> std::time::Duration {
    let secs = 60u64.saturating_add(bytes / (16 * 1024));
    std::time::Duration::from_secs(secs.min(24 * 60 * 60))
}

/// A file name for what `url` points to: its last path segment, percent-decoded, with
/// anything a path could be made of (separators, `..`, control characters) replaced,
/// so that saving it in a folder never writes outside it, as are characters Windows
/// refuses and invisible ones that disguise a name; a Windows device name (`CON`,
/// `NUL`, ...) gets a `_` in front; `download` when nothing is left.
pub fn file_name_from_url(url: &str) -> String {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segment = path.rsplit('/').next().unwrap_or("");
    let decoded = percent_decode(segment);
    let mut name: String = decoded
        .chars()
        .map(|c| if unsafe_in_name(c) { '_' } else { c })
        .collect();
    name = name
        .trim_matches(|c: char| c.is_whitespace() || c == '.')
        .to_owned();
    // Long names are cut at a character boundary (most file systems take 255 bytes).
    while name.len() > 200 {
        name.pop();
    }
    if name.is_empty() {
        String::from("download")
    } else if is_device_name(&name) {
        format!("_{name}")
    } else {
        name
    }
}

/// Characters a received file's name does not keep: path separators, control
/// characters, what Windows forbids in names (`:*?"<>|`), and the invisible format
/// characters that can make a name display as another (zero-width, bidirectional
/// embeddings, overrides and isolates: `evil\u{202E}gpj.exe` shows as `evilexe.jpg`).
fn unsafe_in_name(c: char) -> bool {
    matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || c == '\u{FEFF}'
}

/// Whether Windows reserves `name` for a device (`CON`, `NUL`, `COM1`, ..., with any
/// extension): opening it would not open a file.
fn is_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end();
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes()[3].is_ascii_digit()
            && upper.as_bytes()[3] != b'0')
}

/// A path in `dir` for a file called `name` that does not exist yet: `name` itself, or
/// `stem-1.ext`, `stem-2.ext`, ... (at most 1,000 tries, then `name` with the process id
/// and a counter) — a received file never replaces one already there.
pub fn free_path(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let candidate = dir.join(name);
    if is_free(&candidate) {
        return candidate;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    for n in 1..=1000 {
        let candidate = dir.join(format!("{stem}-{n}{ext}"));
        if is_free(&candidate) {
            return candidate;
        }
    }
    dir.join(format!(
        "{stem}-{}-{}{ext}",
        std::process::id(),
        crate::fresh_seed()
    ))
}

/// Nothing is at `path`, not even a link: `exists` follows links and calls a dangling
/// one free, and `create_new` would then refuse it for good.
fn is_free(path: &Path) -> bool {
    path.symlink_metadata().is_err()
}

/// Creates a new, empty file for `name` in `dir` — `name` itself or the next free
/// [`free_path`] — never opening one that exists (`create_new`: a file or link put there
/// meanwhile is skipped, not written through). Returns its path and the file.
pub fn create_free(dir: &Path, name: &str) -> io::Result<(PathBuf, std::fs::File)> {
    let mut tries = 0;
    loop {
        let candidate = free_path(dir, name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 100 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A download in progress: written to `<dest>.part` (created new, never through an
/// existing file or link), renamed to `dest` by [`finish`](Self::finish), removed if
/// dropped before — an error, a cancelled future — so no partial file is left.
#[derive(Debug)]
pub struct PartFile {
    part: PathBuf,
    dest: PathBuf,
    finished: bool,
}

impl PartFile {
    /// Creates `<dest>.part`; the file to write to comes with it.
    pub fn create(dest: &Path) -> io::Result<(PartFile, std::fs::File)> {
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        let part = dest.with_file_name(name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)?;
        let guard = PartFile {
            part,
            dest: dest.to_path_buf(),
            finished: false,
        };
        Ok((guard, file))
    }

    /// The partial file's path.
    pub fn path(&self) -> &Path {
        &self.part
    }

    /// The download is whole: the partial file becomes `dest`.
    pub fn finish(mut self) -> io::Result<()> {
        std::fs::rename(&self.part, &self.dest)?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes `s` for a URL path segment (unreserved characters stay).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_in_their_folder() {
        assert_eq!(
            file_name_from_url("https://h/a/b/r%C3%A9sum%C3%A9.pdf?x=1#f"),
            "résumé.pdf"
        );
        assert_eq!(
            file_name_from_url("https://h/a/..%2F..%2Fetc%2Fpasswd"),
            "_.._etc_passwd"
        );
        assert_eq!(file_name_from_url("https://h/a/.."), "download");
        assert_eq!(file_name_from_url("https://h"), "download");
        assert_eq!(file_name_from_url("https://h/%00x%5C"), "_x_");
    }

    #[test]
    fn file_names_show_what_they_are_and_open_as_files_everywhere() {
        assert_eq!(
            file_name_from_url("https://h/evil%E2%80%AEgpj.exe"),
            "evil_gpj.exe"
        );
        assert_eq!(
            file_name_from_url("https://h/a%E2%80%8Bb%E2%81%A6c%E2%80%8Fd"),
            "a_b_c_d"
        );
        assert_eq!(
            file_name_from_url("https://h/a%3C%3E%22%7C%3F*b"),
            "a______b"
        );
        for device in ["CON", "nul.txt", "Com1.tar.gz", "LPT9", "aux"] {
            assert_eq!(
                file_name_from_url(&format!("https://h/{device}")),
                format!("_{device}")
            );
        }
        for fine in ["CONSOLE.txt", "COM0", "COM10", "lpt"] {
            assert_eq!(file_name_from_url(&format!("https://h/{fine}")), fine);
        }
    }

    #[test]
    fn free_paths_never_replace_a_file() {
        let dir = std::env::temp_dir().join(format!("jabber-net-free-{}", crate::fresh_seed()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(free_path(&dir, "a.txt"), dir.join("a.txt"));
        std::fs::write(dir.join("a.txt"), b"x").unwrap();
        assert_eq!(free_path(&dir, "a.txt"), dir.join("a-1.txt"));
        std::fs::write(dir.join("a-1.txt"), b"x").unwrap();
        assert_eq!(free_path(&dir, "a.txt"), dir.join("a-2.txt"));
        std::fs::write(dir.join(".rc"), b"x").unwrap();
        assert_eq!(free_path(&dir, ".rc"), dir.join(".rc-1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn redirects_stay_on_the_web_and_never_downgrade() {
        let from = "https://h:1/a/b/c.txt?q=1";
        assert_eq!(
            redirect_target(from, "d.txt").unwrap(),
            "https://h:1/a/b/d.txt"
        );
        assert_eq!(redirect_target(from, "/x").unwrap(), "https://h:1/x");
        assert_eq!(redirect_target(from, "//o/y").unwrap(), "https://o/y");
        assert_eq!(redirect_target(from, "https://o/z").unwrap(), "https://o/z");
        assert_eq!(redirect_target("http://h", "p").unwrap(), "http://h/p");
        assert!(redirect_target(from, "http://o/z").is_err());
        assert!(redirect_target(from, "file:///etc/passwd").is_err());
        assert_eq!(
            redirect_target("http://h/a", "HTTPS://o/z").unwrap(),
            "HTTPS://o/z"
        );
    }

    #[test]
    fn transfer_deadlines_grow_with_size_and_are_bounded() {
        assert_eq!(transfer_deadline(0).as_secs(), 60);
        assert_eq!(transfer_deadline(16 << 20).as_secs(), 60 + 1024);
        assert_eq!(transfer_deadline(u64::MAX).as_secs(), 86_400);
    }

    #[test]
    fn files_are_created_new_and_parts_cleaned_up() {
        let dir = std::env::temp_dir().join(format!("jabber-net-part-{}", crate::fresh_seed()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), b"mine").unwrap();
        let (path, _) = create_free(&dir, "a.txt").unwrap();
        assert_eq!(path, dir.join("a-1.txt"));
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"mine");
        let (path, _) = create_free(&dir, "a.txt").unwrap();
        assert_eq!(path, dir.join("a-2.txt"));

        let dest = dir.join("b.bin");
        let (part, mut file) = PartFile::create(&dest).unwrap();
        assert_eq!(part.path(), dir.join("b.bin.part"));
        assert!(
            PartFile::create(&dest).is_err(),
            "never through an existing file"
        );
        std::io::Write::write_all(&mut file, b"half").unwrap();
        drop(part);
        assert!(!dir.join("b.bin.part").exists());
        assert!(!dest.exists());
        let (part, mut file) = PartFile::create(&dest).unwrap();
        std::io::Write::write_all(&mut file, b"whole").unwrap();
        part.finish().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
        assert!(!dir.join("b.bin.part").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_web_urls() {
        assert!(check_url("https://example.com/x").is_ok());
        assert!(check_url("HTTP://example.com/x").is_ok());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("https://").is_err());
        assert!(check_url("https://a b").is_err());
    }

    #[test]
    fn the_meter_enforces_limit_and_length() {
        assert!(matches!(
            Meter::new(Some(11), Some(10)),
            Err(TransferError::TooLarge { limit: 10 })
        ));
        let mut m = Meter::new(None, Some(10)).unwrap();
        assert_eq!(
            m.add(6).unwrap(),
            Progress {
                done: 6,
                total: None
            }
        );
        assert!(matches!(
            m.add(5),
            Err(TransferError::TooLarge { limit: 10 })
        ));
        let mut m = Meter::new(Some(4), None).unwrap();
        m.add(3).unwrap();
        assert!(matches!(
            m.finish(),
            Err(TransferError::Incomplete {
                expected: 4,
                got: 3
            })
        ));
        m.add(1).unwrap();
        assert_eq!(m.finish().unwrap(), 4);
        assert!(m.add(1).is_err());
    }
}
