//! The runner of the real-server test binaries: groups of scenarios (one per server or
//! per adapter), each group in its own thread, libtest-style lines, one summary line.
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
}

impl Filter {
    /// The filter the test binary's arguments give (flags are ignored).
    pub fn from_args() -> Filter {
        Filter {
            words: std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect(),
        }
    }

    /// Whether the full test name `name` runs.
    pub fn selected(&self, name: &str) -> bool {
        self.words.is_empty() || self.words.iter().any(|w| name.contains(w.as_str()))
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

/// A scenario: a name and a function that panics on failure.
pub type Scenario<C> = (&'static str, fn(&C));

/// Whether any scenario of `group` is selected.
pub fn any_selected<C>(group: &str, scenarios: &[Scenario<C>], filter: &Filter) -> bool {
    scenarios
        .iter()
        .any(|(name, _)| filter.selected(&format!("{group}::{name}")))
}

/// Runs the selected scenarios of `group` in order on `ctx`, printing a line each
/// (`test GROUP::NAME ... ok`); a failure's panic message is followed by `diagnose`'s
/// text (e.g. the server's log).
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
                println!("test {name} ... FAILED\n  {msg}\n{}", diagnose(ctx));
            }
        }
    }
    tally
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
