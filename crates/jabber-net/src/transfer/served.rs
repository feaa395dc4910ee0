//! The trivial server's side of HTTP/1.1 (§8: the sender "opening up another port and
//! running a trivial server on it"): one file at one unguessable path, `GET` and `HEAD`,
//! one request per connection. Sans-IO: the adapters read the request head, ask
//! [`ServedFile::answer`] what to write, and copy the file after it.

use std::net::SocketAddr;

use super::percent_encode;

/// The longest request head read; a longer one is answered `431` and dropped.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// The one file a trivial server serves, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedFile {
    path: String,
    len: u64,
    content_type: Option<String>,
}

/// What to write back for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The status line and headers.
    pub head: Vec<u8>,
    /// The file's bytes follow the head (a `GET` of the file's path).
    pub body: bool,
}

impl ServedFile {
    /// `file_name` (`len` bytes) served at `/<random token>/<file_name>`: the token keeps
    /// others on the network from guessing the URL before the receiver has it.
    pub fn new(file_name: &str, len: u64, content_type: Option<&str>) -> ServedFile {
        let token: String = random_token().iter().map(|b| format!("{b:02x}")).collect();
        ServedFile {
            path: format!("/{token}/{}", percent_encode(file_name)),
            len,
            content_type: content_type.map(String::from),
        }
    }

    /// The path the file is served at.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's size.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The URL of the file on a server listening at `addr`.
    pub fn url(&self, addr: SocketAddr) -> String {
        format!("http://{addr}{}", self.path)
    }

    /// The answer to a request whose head (up to the blank line) is `head`.
    pub fn answer(&self, head: &[u8]) -> Answer {
        let line = head
            .split(|&b| b == b'\n')
            .next()
            .and_then(|l| std::str::from_utf8(l).ok())
            .map(str::trim_end);
        let mut parts = line.unwrap_or("").split(' ');
        let (method, target, version) = (parts.next(), parts.next(), parts.next());
        let well_formed =
            version.is_some_and(|v| v.starts_with("HTTP/1.")) && parts.next().is_none();
        let target = target.map(|t| t.split(['?', '#']).next().unwrap_or(""));
        match (well_formed, method, target) {
            (false, ..) => self.status(400, "Bad Request", &[]),
            (true, Some("GET" | "HEAD"), Some(t)) if t == self.path => {
                let get = method == Some("GET");
                let length = format!("Content-Length: {}", self.len);
                let kind = format!(
                    "Content-Type: {}",
                    self.content_type
                        .as_deref()
                        .unwrap_or("application/octet-stream")
                );
                let mut answer = self.status(200, "OK", &[&length, &kind]);
                answer.body = get;
                answer
            }
            (true, Some("GET" | "HEAD"), _) => self.status(404, "Not Found", &[]),
            _ => self.status(405, "Method Not Allowed", &["Allow: GET, HEAD"]),
        }
    }

    /// The answer to a request head longer than [`MAX_REQUEST_HEAD`].
    pub fn too_long(&self) -> Answer {
        self.status(431, "Request Header Fields Too Large", &[])
    }

    fn status(&self, code: u16, reason: &str, headers: &[&str]) -> Answer {
        let mut head = format!("HTTP/1.1 {code} {reason}\r\nConnection: close\r\n");
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        if code != 200 {
            head.push_str("Content-Length: 0\r\n");
        }
        head.push_str("\r\n");
        Answer {
            head: head.into_bytes(),
            body: false,
        }
    }
}

/// 16 bytes from the operating system's random source (128 bits: not guessable by
/// anyone scanning the port); the time-and-counter seed would be predictable.
fn random_token() -> [u8; 16] {
    use ring::rand::SecureRandom;
    let mut token = [0; 16];
    if ring::rand::SystemRandom::new().fill(&mut token).is_err() {
        // No OS randomness (never on the platforms the adapters run on): still distinct.
        token[..8].copy_from_slice(&crate::fresh_seed().get().to_le_bytes());
        token[8..].copy_from_slice(&crate::fresh_seed().get().to_le_bytes());
    }
    token
}

/// Where the head of a request ends in `buf` (just after its blank line), if it does.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// How a trivial server's transfer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeOutcome {
    /// The receiver downloaded the whole file.
    Completed {
        /// Bytes sent.
        bytes: u64,
    },
    /// The server was stopped before a complete download (the receiver declined, or
    /// did not come).
    Stopped,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_get_head_and_others_byte_exact() {
        let f = ServedFile {
            path: "/t0k/a%20b.txt".into(),
            len: 5,
            content_type: None,
        };
        let get = f.answer(b"GET /t0k/a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(get.body);
        assert_eq!(
            String::from_utf8(get.head).unwrap(),
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        let head = f.answer(b"HEAD /t0k/a%20b.txt?x=1 HTTP/1.0\r\n\r\n");
        assert!(!head.body);
        assert!(head.head.starts_with(b"HTTP/1.1 200 OK\r\n"));
        let other = f.answer(b"GET /t0k/other HTTP/1.1\r\n\r\n");
        assert_eq!(
            String::from_utf8(other.head).unwrap(),
            "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
        assert!(
            f.answer(b"PUT /t0k/a%20b.txt HTTP/1.1\r\n\r\n")
                .head
                .starts_with(b"HTTP/1.1 405")
        );
        assert!(
            f.answer(b"garbage\r\n\r\n")
                .head
                .starts_with(b"HTTP/1.1 400")
        );
        assert!(
            f.answer(b"GET / HTTP/1.1 extra\r\n\r\n")
                .head
                .starts_with(b"HTTP/1.1 400")
        );
    }

    #[test]
    fn paths_are_unguessable_and_encoded() {
        let a = ServedFile::new("my file.bin", 1, None);
        let b = ServedFile::new("my file.bin", 1, None);
        assert_ne!(a.path(), b.path());
        let token = &a.path()[1..a.path().rfind('/').expect("two segments")];
        assert_eq!(token.len(), 32, "{token}");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(a.path().ends_with("/my%20file.bin"));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
