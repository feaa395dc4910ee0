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
            // Help and version go to standard output with status 0; a usage error to
            // standard error with status 1, like every other failure (2 means a timeout).
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            };
        }
    };
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("jabber: internal error: {info}");
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
    match run {
        Ok(Ok(Outcome::Done)) => ExitCode::SUCCESS,
        Ok(Ok(Outcome::TimedOut)) => ExitCode::from(2),
        Ok(Err(e)) => {
            eprintln!("jabber: {e}");
            ExitCode::FAILURE
        }
        // The hook has said it.
        Err(_) => ExitCode::FAILURE,
    }
}
