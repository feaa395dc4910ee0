//! The commands, a file per family; each logs in (or connects), does its work, and logs
//! out.

mod account;
mod chat;
mod contacts;
mod files;
mod info;
mod join;
mod listen;
mod roster;
mod send;

use std::time::Duration;

use crate::args::{Cli, Command};
use crate::fail::Failure;

/// How a command ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It did what it was asked: exit 0.
    Done,
    /// `listen` timed out first: exit 2.
    TimedOut,
}

/// Runs the command the line asks for.
pub(crate) async fn run(cli: Cli) -> Result<Outcome, Failure> {
    let common = &cli.common;
    match cli.command {
        Command::Send(args) => send::run(common, args).await,
        Command::Listen(args) => listen::run(common, args).await,
        Command::Roster(args) => roster::run(common, args).await,
        Command::Subscribe(t) => contacts::subscribe(common, t).await,
        Command::Approve(t) => contacts::approve(common, t).await,
        Command::Block(t) => contacts::block(common, t, true).await,
        Command::Unblock(t) => contacts::block(common, t, false).await,
        Command::Register(args) => account::register(common, args).await,
        Command::Passwd(args) => account::passwd(common, args).await,
        Command::Unregister => account::unregister(common).await,
        Command::Chat(t) => chat::run(common, t).await,
        Command::Join(args) => join::run(common, args).await,
        Command::Sendfile(args) => files::send(common, args).await,
        Command::Receive(args) => files::receive(common, args).await,
        Command::Vcard(o) => info::vcard(common, o).await,
        Command::Disco(o) => info::disco(common, o).await,
        Command::Ping(o) => info::ping(common, o).await,
    }
    .map(|()| Outcome::Done)
    .or_else(|e| match e {
        Stop::TimedOut => Ok(Outcome::TimedOut),
        Stop::Failed(f) => Err(f),
    })
}

/// How a command stops early.
pub(crate) enum Stop {
    /// The timeout of `listen`.
    TimedOut,
    /// A failure.
    Failed(Failure),
}

impl<E: Into<Failure>> From<E> for Stop {
    fn from(e: E) -> Stop {
        Stop::Failed(e.into())
    }
}

/// What a command returns.
pub(crate) type Result<T = (), E = Stop> = std::result::Result<T, E>;

/// `text` as an address, for the argument `what`.
pub(crate) fn parse_jid(text: &str) -> Result<jabber_tokio::Jid, Failure> {
    jabber_tokio::Jid::parse(text)
        .map_err(|e| Failure::new(format!("{text}: not a valid address: {e}")))
}

/// `--timeout SECONDS` as a duration: `None` without one, or when it is too long to
/// represent (as good as never); a negative or not-a-number value is refused.
pub(crate) fn timeout_arg(seconds: Option<f64>) -> Result<Option<Duration>, Failure> {
    match seconds {
        None => Ok(None),
        Some(s) if s >= 0.0 => Ok(Duration::try_from_secs_f64(s).ok()),
        Some(_) => Err(Failure::new("--timeout: a number of seconds, 0 or more")),
    }
}

/// The instant `timeout` from now; `None` without a timeout or past what the clock can
/// hold.
pub(crate) fn deadline_after(timeout: Option<Duration>) -> Option<tokio::time::Instant> {
    timeout.and_then(|t| tokio::time::Instant::now().checked_add(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_mean_never() {
        assert_eq!(timeout_arg(Some(1e300)).ok(), Some(None));
        assert_eq!(timeout_arg(Some(f64::INFINITY)).ok(), Some(None));
        assert!(deadline_after(Some(Duration::MAX)).is_none());
        assert_eq!(
            timeout_arg(Some(1.5)).ok(),
            Some(Some(Duration::from_millis(1500)))
        );
        assert!(timeout_arg(Some(-1.0)).is_err());
        assert!(timeout_arg(Some(f64::NAN)).is_err());
    }
}
