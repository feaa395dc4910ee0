//! Headless Chromium through chromedriver: just enough of the W3C WebDriver protocol
//! (HTTP and JSON on loopback) to load a page, type, click, read the DOM, run a script
//! and take a screenshot.

use std::env;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::servers::free_port;
use crate::watchdog::Watchdog;

/// How long chromedriver may take to answer its status.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one WebDriver request may take (a new session starts Chromium).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The W3C id of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A `program` on the `PATH`, with what to do if it is missing.
fn find(program: &str) -> io::Result<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{program} is not installed: run scripts/install-browser"),
            )
        })
}

/// A chromedriver process on a free loopback port, with the Chromium it starts, in a
/// process group of their own: stopped by that group's id on drop — or, if the test
/// process dies without unwinding, by its watchdog (`crate::watchdog`).
pub struct Chromedriver {
    child: Child,
    port: u16,
    profile: PathBuf,
    watchdog: Option<Watchdog>,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it is ready.
    pub fn start() -> io::Result<Chromedriver> {
        let program = find("chromedriver")?;
        find("chromium")?;
        let port = free_port();
        let profile =
            env::temp_dir().join(format!("jabber-chromium-{}-{port}", std::process::id()));
        fs::create_dir_all(&profile)?;
        let mut command = Command::new(program);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own group: Chromium's processes join it, and one signal reaches them all.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn()?;
        let watchdog = Watchdog::spawn("jabber-chromium-watchdog", child.id(), &profile).ok();
        let driver = Chromedriver {
            child,
            port,
            profile,
            watchdog,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(status) = request(port, "GET", "/status", None) {
                if status["ready"] == true {
                    return Ok(driver);
                }
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("chromedriver did not become ready"));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless Chromium session.
    pub fn session(&self) -> io::Result<Browser> {
        self.session_with(&[])
    }

    /// A new headless Chromium session with `extra` command-line switches.
    pub fn session_with(&self, extra: &[String]) -> io::Result<Browser> {
        let chromium = find("chromium")?;
        // As root Chromium needs --no-sandbox. The background services would only knock
        // at closed doors here (no network beyond loopback).
        let profile = format!("--user-data-dir={}", self.profile.display());
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1100,760",
            &profile,
        ];
        args.extend(extra.iter().map(String::as_str));
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": chromium, "args": args },
                    "goog:loggingPrefs": { "browser": "ALL" },
                }
            }
        });
        let answer = request(self.port, "POST", "/session", Some(&capabilities))?;
        let id = answer["sessionId"]
            .as_str()
            .ok_or_else(|| io::Error::other(format!("no session: {answer}")))?;
        Ok(Browser {
            port: self.port,
            path: format!("/session/{id}"),
        })
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.profile);
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.disarm();
        }
    }
}

/// One browser window (a WebDriver session); closed on drop.
pub struct Browser {
    port: u16,
    path: String,
}

impl Browser {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> io::Result<Value> {
        request(self.port, method, &format!("{}{path}", self.path), body)
    }

    /// Loads `url`.
    pub fn goto(&self, url: &str) -> io::Result<()> {
        self.call("POST", "/url", Some(&json!({ "url": url })))
            .map(drop)
    }

    /// The element `css` selects (the first), or an error.
    pub fn find(&self, css: &str) -> io::Result<Element<'_>> {
        let found = self.call(
            "POST",
            "/element",
            Some(&json!({ "using": "css selector", "value": css })),
        )?;
        let id = found[ELEMENT]
            .as_str()
            .ok_or_else(|| io::Error::other(format!("no element {css}: {found}")))?;
        Ok(Element {
            browser: self,
            id: id.to_owned(),
        })
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> io::Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// Polls `probe` until it gives `Some`, for at most `timeout`; the error names
    /// `what` and carries the page's text and console to explain it.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut(&Browser) -> io::Result<Option<T>>,
    ) -> io::Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = probe(self)? {
                return Ok(found);
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "timed out waiting for {what}; page: {}; console: {}",
                    self.execute("return document.body.innerText", json!([]))
                        .unwrap_or_default(),
                    self.console().unwrap_or_default(),
                )));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the page logged to its console since the last call (chromedriver's log).
    pub fn console(&self) -> io::Result<Value> {
        self.call("POST", "/se/log", Some(&json!({ "type": "browser" })))
    }

    /// A PNG of the window, written to `path`.
    pub fn screenshot(&self, path: &Path) -> io::Result<()> {
        let encoded = self.call("GET", "/screenshot", None)?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(io::Error::other)?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, png)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = request(self.port, "DELETE", &self.path, None);
    }
}

/// An element of the page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Element<'_> {
    /// Types `text` into it.
    pub fn type_text(&self, text: &str) -> io::Result<()> {
        let path = format!("/element/{}/value", self.id);
        self.browser
            .call("POST", &path, Some(&json!({ "text": text })))
            .map(drop)
    }

    /// Clears its value.
    pub fn clear(&self) -> io::Result<()> {
        let path = format!("/element/{}/clear", self.id);
        self.browser.call("POST", &path, Some(&json!({}))).map(drop)
    }

    /// Clicks it.
    pub fn click(&self) -> io::Result<()> {
        let path = format!("/element/{}/click", self.id);
        self.browser.call("POST", &path, Some(&json!({}))).map(drop)
    }

    /// Its rendered text.
    pub fn text(&self) -> io::Result<String> {
        let path = format!("/element/{}/text", self.id);
        let text = self.browser.call("GET", &path, None)?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }
}

/// One WebDriver request: HTTP/1.1 with `Connection: close`; returns the answer's
/// `value`, or its error as an `io::Error`.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> io::Result<Value> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver may keep the connection open: read the header, then the body by its
    // length (or its chunks), not to the end of the stream.
    let mut answer = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let (head, body_start) = loop {
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase(),
                end + 4,
            );
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::other("no HTTP header end"));
        }
        answer.extend_from_slice(&buf[..n]);
    };
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == "content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let have = &answer[body_start..];
        let complete = match length {
            Some(length) => have.len() >= length,
            None if chunked => have.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let mut content = answer[body_start..].to_vec();
    if let Some(length) = length {
        content.truncate(length);
    } else if chunked {
        content = dechunk(&content)?;
    }
    let value: Value = serde_json::from_slice(&content).map_err(|e| {
        io::Error::other(format!(
            "{method} {path}: not JSON ({e}): {}",
            String::from_utf8_lossy(&content)
        ))
    })?;
    let value = value.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        return Err(io::Error::other(format!(
            "{method} {path}: {error}: {}",
            value["message"].as_str().unwrap_or_default()
        )));
    }
    Ok(value)
}

/// The body of a chunked HTTP/1.1 answer.
fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let bad = || io::Error::other("bad chunked encoding");
    let mut out = Vec::new();
    loop {
        let line = data.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size = std::str::from_utf8(&data[..line]).map_err(|_| bad())?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        data = &data[line + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or_else(bad)?);
        data = data.get(size + 2..).ok_or_else(bad)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether process `pid` still exists (a zombie counts as gone).
    fn alive(pid: u32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
                !state.starts_with('Z')
            })
            .unwrap_or(false)
    }

    #[test]
    fn the_watchdog_kills_the_group_and_removes_the_profile_when_the_test_dies() {
        let profile = env::temp_dir().join(format!("jabber-watchdog-test-{}", std::process::id()));
        fs::create_dir_all(&profile).expect("a profile");
        // A stand-in for chromedriver and a Chromium child, in a group of their own.
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 600 & exec sleep 600"]);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut group = command.spawn().expect("sh");
        let watchdog = Watchdog::spawn("jabber-chromium-watchdog", group.id(), &profile)
            .expect("the watchdog");
        // The test process "dies": its end of the pipe closes, nothing is disarmed.
        let Watchdog {
            child: mut dog,
            _stdin,
        } = watchdog;
        drop(_stdin);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut killed = false;
        while Instant::now() < deadline {
            if !killed {
                killed = group.try_wait().expect("waitable").is_some();
            }
            if killed && !profile.exists() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        if !killed {
            // Clean up before failing.
            let pgid = format!("-{}", group.id());
            let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        }
        // Reaped (again, harmlessly, when try_wait already did).
        let _ = group.wait();
        let _ = dog.wait();
        assert!(killed, "the group is killed");
        assert!(!profile.exists(), "the profile is removed");
        // Nothing of the group is left: the shell's background child neither.
        let members = fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| {
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let after = stat.rsplit(')').next().unwrap_or_default();
                // state, ppid, pgrp
                after.split_whitespace().nth(2) == Some(&group.id().to_string()) && alive(pid)
            })
            .count();
        assert_eq!(members, 0);
    }
}
