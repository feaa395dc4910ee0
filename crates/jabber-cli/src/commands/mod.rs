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
