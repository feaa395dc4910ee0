//! The runner of the real-server test binaries: groups of scenarios (one per server,
//! adapter, or server and adapter), each group in its own thread, libtest-style lines,
//! one summary line.
//! A custom `main` calls it: these binaries start servers once and share them between
//! scenarios, which libtest's one-function-per-test model cannot express.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::Instant;

/// The scenario names selected on the command line (`-- NAME ...`: those containing a
/// NAME; none: all).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    words: Vec<String>,
    skip: Vec<String>,
    exact: bool,
}

impl Filter {
    /// The filter the test binary's arguments give, read as libtest reads them: words
    /// select, `--skip WORD` excludes, `--exact` wants the whole name, other flags (and
    /// the values of those that take one) are ignored.
    pub fn from_args() -> Filter {
        Filter::parse(std::env::args().skip(1))
    }

    /// The filter of the given arguments.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Filter {
        let mut filter = Filter::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--skip" => filter.skip.extend(args.next()),
                "--exact" => filter.exact = true,
                "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                _ => filter.words.push(arg),
            }
        }
        filter
    }

    /// Whether the full test name `name` runs.
    pub fn selected(&self, name: &str) -> bool {
        let hit = |w: &String| {
            if self.exact {
                name == w
            } else {
                name.contains(w.as_str())
            }
        };
        (self.words.is_empty() || self.words.iter().any(hit)) && !self.skip.iter().any(hit)
    }
}

/// Passed and failed counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios (or set-ups) that failed.
    pub failed: usize,
}

impl Tally {
    /// A failed set-up: reported under `name` and counted as one failure.
    pub fn setup_failed(name: &str, error: &dyn std::fmt::Display) -> Tally {
        println!("test {name} ... FAILED\n{error}");
        Tally {
            passed: 0,
            failed: 1,
        }
    }
}

/// Groups run under one set-up (one server for several adapters) count as one.
impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(tallies: I) -> Tally {
        tallies.fold(Tally::default(), |a, b| Tally {
            passed: a.passed + b.passed,
            failed: a.failed + b.failed,
        })
    }
}

/// A scenario: a name and a function that panics on failure.
pub type Scenario<C> = (&'static str, fn(&C));

/// Whether any scenario of `group` is selected.
pub fn any_selected<C>(group: &str, scenarios: &[Scenario<C>], filter: &Filter) -> bool {
    scenarios
        .iter()
        .any(|(name, _)| filter.selected(&format!("{group}::{name}")))
}

/// Runs the selected scenarios of `group` in order on `ctx`, printing a line each
/// (`test GROUP::NAME ... ok`); a failure's panic message, prefixed with the full name so
/// that it stands on its own, is followed by `diagnose`'s text (e.g. the server's log).
pub fn run_scenarios<C>(
    group: &str,
    ctx: &C,
    scenarios: &[Scenario<C>],
    filter: &Filter,
    diagnose: &dyn Fn(&C) -> String,
) -> Tally {
    let mut tally = Tally::default();
    for (name, scenario) in scenarios {
        let name = format!("{group}::{name}");
        if !filter.selected(&name) {
            continue;
        }
        let t = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| scenario(ctx))) {
            Ok(()) => {
                tally.passed += 1;
                println!("test {name} ... ok ({:.2}s)", t.elapsed().as_secs_f64());
            }
            Err(panic) => {
                tally.failed += 1;
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("test {name} ... FAILED\n  {name}: {msg}\n{}", diagnose(ctx));
            }
        }
    }
    tally
}

/// Runs each group in a thread of its own and collects their tallies; a group whose
/// thread panicked outside its scenarios counts as one failure.
pub fn in_parallel<G>(groups: impl IntoIterator<Item = G>) -> Vec<Tally>
where
    G: FnOnce() -> Tally + Send,
{
    std::thread::scope(|s| {
        let handles: Vec<_> = groups.into_iter().map(|group| s.spawn(group)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or(Tally {
                    passed: 0,
                    failed: 1,
                })
            })
            .collect()
    })
}

/// Prints libtest's summary line for all groups and gives the exit code.
pub fn finish(tallies: &[Tally], started: Instant) -> ExitCode {
    let passed: usize = tallies.iter().map(|t| t.passed).sum();
    let failed: usize = tallies.iter().map(|t| t.failed).sum();
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        if failed == 0 { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::Filter;

    fn filter(args: &[&str]) -> Filter {
        Filter::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn words_select_and_flags_with_values_do_not() {
        let f = filter(&["--test-threads", "1", "roster", "--nocapture"]);
        assert!(f.selected("mio::login_and_roster_fetch"));
        assert!(!f.selected("mio::logout"));
        assert!(
            !f.selected("std::scenario_1"),
            "the 1 of --test-threads is no filter"
        );
    }

    #[test]
    fn skip_excludes_and_exact_wants_the_whole_name() {
        let f = filter(&["--skip", "tokio"]);
        assert!(f.selected("mio::logout"));
        assert!(!f.selected("tokio::logout"));
        let f = filter(&["--exact", "mio::logout"]);
        assert!(f.selected("mio::logout"));
        assert!(!f.selected("mio::logout_twice"));
        assert!(filter(&[]).selected("anything"));
    }
}
