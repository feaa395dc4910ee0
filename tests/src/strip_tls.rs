//! A STARTTLS-stripping proxy: the downgrade attack of RFC 6120 §5.3.1 played on
//! loopback. It forwards every connection to a server and removes `<starttls/>` from the
//! server's first `<stream:features>`, so the client sees an XMPP 1.0 stream that offers
//! no TLS — and whatever it sends next crosses in plaintext. Tests use it to check that
//! nothing secret does.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;

/// The proxy; it runs until the test process ends (its threads are detached).
#[derive(Debug)]
pub struct StripTls {
    addr: SocketAddr,
}

impl StripTls {
    /// Listens on a loopback port and forwards each connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<StripTls> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (Ok(client_in), Ok(server_in)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                thread::spawn(move || copy(client_in, server));
                thread::spawn(move || strip(server_in, client));
            }
        });
        Ok(StripTls { addr })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// Server to client: held back until the first features are complete, which go on
/// without `<starttls>`; everything after is copied as it comes.
fn strip(mut from: TcpStream, mut to: TcpStream) {
    let mut held = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = to.write_all(&held);
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        held.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&held);
        if text.contains("</stream:features>") {
            let stripped = without_starttls(&text);
            if to.write_all(stripped.as_bytes()).is_err() {
                return;
            }
            break;
        }
    }
    copy(from, to);
}

/// `text` without its `<starttls ...>` element (empty or with children).
pub fn without_starttls(text: &str) -> String {
    let Some(start) = text.find("<starttls") else {
        return text.to_owned();
    };
    let rest = &text[start..];
    let Some(open_end) = rest.find('>') else {
        return text.to_owned();
    };
    let end = if rest[..open_end].ends_with('/') {
        open_end + 1
    } else {
        match rest.find("</starttls>") {
            Some(close) => close + "</starttls>".len(),
            None => return text.to_owned(),
        }
    };
    format!("{}{}", &text[..start], &rest[end..])
}

#[cfg(test)]
mod tests {
    use super::without_starttls;

    #[test]
    fn starttls_is_cut_out_whole() {
        let ns = "xmlns='urn:ietf:params:xml:ns:xmpp-tls'";
        assert_eq!(
            without_starttls(&format!("<f><starttls {ns}/><m/></f>")),
            "<f><m/></f>"
        );
        assert_eq!(
            without_starttls(&format!("<f><starttls {ns}><required/></starttls><m/></f>")),
            "<f><m/></f>"
        );
        assert_eq!(without_starttls("<f><m/></f>"), "<f><m/></f>");
    }
}
