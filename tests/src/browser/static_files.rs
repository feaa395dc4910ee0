//! A tiny HTTP server for the demo page on loopback: `GET` only, files from a few
//! folders, the content types a browser insists on (`application/wasm` for streaming
//! compilation, JavaScript for modules).

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Most connections answered at once, each on its own thread: a browser opens several,
/// and one that stays silent must not hold up the others.
const MAX_CONNECTIONS: usize = 16;

/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves files until dropped.
pub struct StaticFiles {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticFiles {
    /// Serves each `(prefix, folder)`: a path under `prefix` is that file of `folder`.
    /// The longest matching prefix wins; `/` alone is `index.html`.
    pub fn serve(mounts: Vec<(String, PathBuf)>) -> io::Result<StaticFiles> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let stop = stop.clone();
            move || {
                let mounts = Arc::new(mounts);
                let busy = Arc::new(AtomicUsize::new(0));
                while !stop.load(Ordering::Relaxed) {
                    if busy.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                        // At the bound, the next connections wait in the backlog.
                        thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    match listener.accept() {
                        Ok((stream, _)) => {
                            busy.fetch_add(1, Ordering::AcqRel);
                            let (mounts, busy) = (mounts.clone(), busy.clone());
                            // Detached: a connection ends by itself within READ_TIMEOUT
                            // of silence.
                            thread::spawn(move || {
                                let _ = answer(stream, &mounts);
                                busy.fetch_sub(1, Ordering::AcqRel);
                            });
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(10));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            }
        });
        Ok(StaticFiles {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:port`, without a trailing slash.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StaticFiles {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The file for a request path, if it names one inside a mount.
fn resolve(path: &str, mounts: &[(String, PathBuf)]) -> Option<PathBuf> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let (prefix, folder) = mounts
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())?;
    let rest = &path[prefix.len()..];
    let rest = if rest.is_empty() { "index.html" } else { rest };
    let relative = Path::new(rest.trim_start_matches('/'));
    // Nothing outside the folder: no `..`, no absolute paths.
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(folder.join(relative))
}

fn answer(mut stream: TcpStream, mounts: &[(String, PathBuf)]) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // The headers are not needed; read them to their end.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("/"),
    );
    let file = (method == "GET")
        .then(|| resolve(path, mounts))
        .flatten()
        .and_then(|file| Some((fs::read(&file).ok()?, content_type(&file))));
    match file {
        Some((body, kind)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                 Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)
        }
        None => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts() -> Vec<(String, PathBuf)> {
        vec![
            ("/".into(), PathBuf::from("/www")),
            ("/pkg/".into(), PathBuf::from("/out/pkg")),
        ]
    }

    #[test]
    fn paths_map_to_the_longest_mount() {
        let file = |path| resolve(path, &mounts());
        assert_eq!(file("/"), Some(PathBuf::from("/www/index.html")));
        assert_eq!(
            file("/?url=ws://x/ws"),
            Some(PathBuf::from("/www/index.html"))
        );
        assert_eq!(file("/app.js"), Some(PathBuf::from("/www/app.js")));
        assert_eq!(
            file("/pkg/jabber_wasm_bg.wasm"),
            Some(PathBuf::from("/out/pkg/jabber_wasm_bg.wasm"))
        );
    }

    #[test]
    fn nothing_outside_the_folders_is_served() {
        let file = |path| resolve(path, &mounts());
        assert_eq!(file("/../etc/passwd"), None);
        assert_eq!(file("/pkg/../../etc/passwd"), None);
        assert_eq!(file("/./app.js"), None);
        assert_eq!(file("//etc/passwd"), Some(PathBuf::from("/www/etc/passwd")));
        assert_eq!(file("no-slash"), None);
    }

    #[test]
    fn a_silent_connection_does_not_hold_up_the_others() {
        let dir = std::env::temp_dir().join(format!("jabber-static-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("a folder");
        fs::write(dir.join("index.html"), "hello").expect("a file");
        let files = StaticFiles::serve(vec![("/".into(), dir.clone())]).expect("serving");
        // Connects and says nothing.
        let _silent = TcpStream::connect(files.addr).expect("connected");
        thread::sleep(Duration::from_millis(50));
        let started = std::time::Instant::now();
        let mut other = TcpStream::connect(files.addr).expect("connected");
        other
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout set");
        other
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("sent");
        let mut answer = String::new();
        io::Read::read_to_string(&mut other, &mut answer).expect("an answer");
        let waited = started.elapsed();
        drop(files);
        let _ = fs::remove_dir_all(&dir);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("hello"), "{answer}");
        assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    }

    #[test]
    fn browsers_get_the_types_they_insist_on() {
        assert_eq!(content_type(Path::new("a.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("a.js")),
            "text/javascript; charset=utf-8"
        );
    }
}
