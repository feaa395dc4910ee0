//! A real server with a plain WebSocket listener (RFC 7395) on loopback, for the browser
//! test: ejabberd's `ejabberd_http_ws` on an `ejabberd_http` listener, prosody's
//! `mod_websocket` on its HTTP port. Added to the usual test configuration with
//! [`Server::start_edited`].

use std::io;
use std::net::{Ipv4Addr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::servers::{Server, ServerKind, free_port};

/// How long the WebSocket port may take to accept after the server answered on its
/// XMPP port.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A server of `kind` that also takes XMPP over WebSocket at the returned `ws://` URL.
pub fn start_with_websocket(kind: ServerKind) -> io::Result<(Server, String)> {
    let port = free_port();
    let server = Server::start_edited(kind, &|kind, config| add_listener(kind, config, port))?;
    let path = match kind {
        ServerKind::Ejabberd => "/ws",
        ServerKind::Prosody => "/xmpp-websocket",
    };
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{kind}'s WebSocket port {port} does not accept; log:\n{}",
                server.log_tail()
            )));
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok((server, format!("ws://127.0.0.1:{port}{path}")))
}

/// The test configuration with a WebSocket listener on `port`.
fn add_listener(kind: ServerKind, config: String, port: u16) -> String {
    match kind {
        ServerKind::Ejabberd => {
            let listener = format!(
                "listen:
  -
    port: {port}
    ip: \"127.0.0.1\"
    module: ejabberd_http
    request_handlers:
      /ws: ejabberd_http_ws
"
            );
            replace_once(&config, "listen:\n", &listener)
        }
        ServerKind::Prosody => {
            // Over plain ws:// on loopback the session counts as encrypted, as a wss://
            // one behind a TLS proxy would; the login is SCRAM either way.
            let http = format!(
                "http_ports = {{ {port} }}
http_interfaces = {{ \"127.0.0.1\" }}
http_default_host = \"localhost\"
consider_websocket_secure = true
"
            );
            let config = replace_once(&config, "http_ports = {}\n", &http);
            replace_once(
                &config,
                "modules_enabled = { ",
                "modules_enabled = { \"websocket\", ",
            )
        }
    }
}

/// `text` with `from` replaced by `to`, which must be there exactly once.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "the test configuration changed: {from:?}"
    );
    text.replacen(from, to, 1)
}
