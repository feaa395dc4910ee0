//! # jabber
//!
//! A command-line Jabber/XMPP client on the jabber library: `jabber send`, `listen`,
//! `roster`, `chat`, ... Every command logs in, does one thing, and logs out; see
//! `jabber --help`. It drives the core through the tokio adapter (`jabber-tokio`):
//! `chat` waits on the network and on standard input at once.
//!
//! Exit status: 0 done, 1 failed (one line on standard error), 2 `listen` timed out.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod connect;
mod fail;
mod output;
mod session;
mod verbose;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::args::Cli;
use crate::commands::Outcome;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version asked for go to standard output with status 0; a usage
            // error (no command at all included: the help shown then is not what was
            // asked) to standard error with status 1, like every other failure (2 means
            // a timeout).
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            };
        }
    };
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("jabber: internal error: {}", one_line(&panic_text(info)));
    }));
    if cli.common.verbose {
        verbose::install();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("jabber: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let run = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(commands::run(cli))));
    // Not a drop: that waits for the blocking thread reading standard input, which
    // never returns while the input stays open (a chat that failed would hang).
    runtime.shutdown_background();
    match run {
        Ok(Ok(Outcome::Done)) => ExitCode::SUCCESS,
        Ok(Ok(Outcome::TimedOut)) => ExitCode::from(2),
        Ok(Err(e)) => {
            eprintln!("jabber: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
        // The hook has said it.
        Err(_) => ExitCode::FAILURE,
    }
}

/// A panic's message alone (no location: the user cannot act on it).
fn panic_text(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a bug".to_owned()
    }
}

/// `text` on one line: a server's error text can hold line breaks, and an error is one
/// line on standard error.
pub(crate) fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn errors_stay_on_one_line() {
        assert_eq!(one_line("bad\r\n  request\n"), "bad request");
        assert_eq!(one_line("plain"), "plain");
    }
}
