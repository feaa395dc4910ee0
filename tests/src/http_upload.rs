//! HTTP File Upload (XEP-0363) on the test servers, opt-in with
//! [`Server::start_with_upload`](crate::Server::start_with_upload): ejabberd's
//! `mod_http_upload` behind an `ejabberd_http` listener, prosody's `mod_http_file_share`
//! as the component `upload.localhost`. Both listen with TLS (the test CA's certificate,
//! for `localhost`) on one more port of `127.0.0.1`, and hand out
//! `https://localhost:<port>/...` URLs.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::servers::ServerKind;

/// The largest file the test services take: above the 5 MB of the transfer tests, low
/// enough that a "too large" refusal is cheap to provoke.
pub const MAX_UPLOAD_SIZE: u64 = 8 * 1024 * 1024;

/// The upload service's address on both servers.
pub const UPLOAD_SERVICE: &str = "upload.localhost";

/// Adds the upload service, on `http_port`, to the configuration file `config` of a
/// server of `kind` before it starts.
pub(crate) fn add_to_config(kind: ServerKind, config: &Path, http_port: u16) -> io::Result<()> {
    let text = fs::read_to_string(config)?;
    let text = match kind {
        ServerKind::Ejabberd => ejabberd(&text, http_port),
        ServerKind::Prosody => prosody(&text, http_port),
    }?;
    fs::write(config, text)
}

fn ejabberd(config: &str, http_port: u16) -> io::Result<String> {
    // A second listener in the list (its items start with "  -" under "listen:"), and
    // the module; the docroot defaults to @HOME@/upload, HOME being the server's folder.
    let listener = format!(
        "listen:
  -
    port: {http_port}
    ip: \"127.0.0.1\"
    module: ejabberd_http
    tls: true
    request_handlers:
      /upload: mod_http_upload
"
    );
    let module = format!(
        "modules:
  mod_http_upload:
    host: \"{UPLOAD_SERVICE}\"
    put_url: \"https://localhost:{http_port}/upload\"
    max_size: {MAX_UPLOAD_SIZE}
"
    );
    replace_once(config, "listen:\n", &listener)
        .and_then(|c| replace_once(&c, "modules:\n", &module))
}

fn prosody(config: &str, http_port: u16) -> io::Result<String> {
    let mut config = replace_once(
        config,
        "http_ports = {}\n",
        "http_ports = {}\nhttp_interfaces = { \"127.0.0.1\" }\n",
    )?;
    config = replace_once(
        &config,
        "https_ports = {}\n",
        &format!("https_ports = {{ {http_port} }}\nhttps_interfaces = {{ \"127.0.0.1\" }}\n"),
    )?;
    // Components go after every global option; the HTTP host is the VirtualHost's name
    // (what the URLs carry), the external URL names the port.
    config.push_str(&format!(
        "Component \"{UPLOAD_SERVICE}\" \"http_file_share\"
http_host = \"localhost\"
http_external_url = \"https://localhost:{http_port}/\"
http_file_share_size_limit = {MAX_UPLOAD_SIZE}
"
    ));
    Ok(config)
}

fn replace_once(config: &str, anchor: &str, with: &str) -> io::Result<String> {
    if !config.contains(anchor) {
        return Err(io::Error::other(format!(
            "the server configuration has no {anchor:?} to add the upload service at"
        )));
    }
    Ok(config.replacen(anchor, with, 1))
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub(crate) fn wait_listening(port: u16, timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("nothing listens for HTTP upload on port {port}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
