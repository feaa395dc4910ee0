//! Socket settings every adapter applies.

use std::io;

use crate::Options;

/// No Nagle delay (stanzas are small and interactive) and TCP keepalive as `options`
/// say. Works on any socket type socket2 can borrow: std's, mio's and tokio's
/// `TcpStream`. (Write timeouts are the blocking adapter's own business.)
pub fn configure_socket<S>(socket: &S, options: &Options) -> io::Result<()>
where
    for<'s> socket2::SockRef<'s>: From<&'s S>,
{
    let sock = socket2::SockRef::from(socket);
    sock.set_tcp_nodelay(true)?;
    if let Some(idle) = options.tcp_keepalive {
        let keepalive = socket2::TcpKeepalive::new().with_time(idle);
        #[cfg(any(
            target_os = "android",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "ios",
            target_os = "linux",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "windows",
        ))]
        let keepalive = keepalive.with_interval(options.tcp_keepalive_interval);
        sock.set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

/// Whether a socket error means the connection is gone for good: a reset, a broken pipe
/// or an aborted connection. The adapters then call [`Link::handle_reset`](crate::Link::handle_reset)
/// (nothing more can be written) rather than treating it as an end of input.
pub fn is_reset(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}
