//! Opt-in WebSocket listeners (RFC 7395) for the test servers
//! ([`Server::start_websocket`](crate::servers::Server::start_websocket)): plain `ws:` and
//! `wss:` (the test CA's certificate) on `127.0.0.1`, added to the configuration the
//! server would otherwise start with. ejabberd also serves XEP-0156 `host-meta` (XML and
//! JSON) on both, pointing at its `wss:` endpoint.

use std::fs;
use std::io;
use std::path::Path;

use crate::servers::ServerKind;

/// The ports of a server's WebSocket listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebSocketPorts {
    /// Plain `ws:`.
    pub ws: u16,
    /// `wss:` with the test CA's certificate for the test domain.
    pub wss: u16,
}

impl WebSocketPorts {
    /// Two ports that were free.
    pub fn free() -> WebSocketPorts {
        WebSocketPorts {
            ws: crate::servers::free_port(),
            wss: crate::servers::free_port(),
        }
    }
}

/// The path of the WebSocket endpoint on a server of `kind`.
pub fn path(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Ejabberd => "/ws",
        ServerKind::Prosody => "/xmpp-websocket",
    }
}

/// Rewrites the configuration file at `config` with the listeners added.
pub(crate) fn add(kind: ServerKind, config: &Path, ports: WebSocketPorts) -> io::Result<()> {
    let text = fs::read_to_string(config)?;
    let text = match kind {
        ServerKind::Ejabberd => ejabberd(&text, ports),
        ServerKind::Prosody => prosody(&text, ports),
    }
    .ok_or_else(|| io::Error::other("the server configuration changed: no place for WebSocket"))?;
    fs::write(config, text)
}

/// ejabberd: `ejabberd_http` listeners with `ejabberd_http_ws` (and `mod_host_meta`).
fn ejabberd(config: &str, ports: WebSocketPorts) -> Option<String> {
    let listener = |port: u16, tls: bool| {
        // (Not `"\`: that would eat the item's indentation.)
        format!(
            "  -
    port: {port}
    ip: \"127.0.0.1\"
    module: ejabberd_http
    tls: {tls}
    request_handlers:
      /ws: ejabberd_http_ws
      /.well-known/host-meta: mod_host_meta
      /.well-known/host-meta.json: mod_host_meta
"
        )
    };
    let listeners = format!(
        "listen:\n{}{}",
        listener(ports.ws, false),
        listener(ports.wss, true)
    );
    let module = format!(
        "modules:\n  mod_host_meta:\n    bosh_service_url: undefined\n    websocket_url: \
         \"wss://{}:{}/ws\"\n",
        crate::servers::DOMAIN,
        ports.wss
    );
    config.contains("\nlisten:\n").then_some(())?;
    config.contains("\nmodules:\n").then_some(())?;
    Some(
        config
            .replacen("\nlisten:\n", &format!("\n{listeners}"), 1)
            .replacen("\nmodules:\n", &format!("\n{module}"), 1),
    )
}

/// prosody: its HTTP server on both ports and `mod_websocket`.
fn prosody(config: &str, ports: WebSocketPorts) -> Option<String> {
    let http = "http_ports = {}\nhttps_ports = {}\n";
    let modules = "\"smacks\" }";
    (config.contains(http) && config.contains(modules)).then_some(())?;
    let listeners = format!(
        "\
http_ports = {{ {ws} }}
https_ports = {{ {wss} }}
http_interfaces = {{ \"127.0.0.1\" }}
https_interfaces = {{ \"127.0.0.1\" }}
http_default_host = \"{domain}\"
-- Browsers' pages come from elsewhere (the wasm tests' loopback origin).
cross_domain_websocket = true
",
        ws = ports.ws,
        wss = ports.wss,
        domain = crate::servers::DOMAIN,
    );
    Some(
        config
            .replacen(http, &listeners, 1)
            .replacen(modules, "\"smacks\", \"websocket\" }", 1),
    )
}
