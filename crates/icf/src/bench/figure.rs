//! A benchmark's result: one figure, printed as a row of BENCHMARKS.md's tables.

use std::time::Duration;

use super::fixture::Store;

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub bench: &'static str,
    pub what: String,
    pub store: &'static str,
    pub value: String,
    pub goal: Option<&'static str>,
    /// Whether the goal is met, when there is one.
    pub met: Option<bool>,
}

impl Figure {
    pub fn new(bench: &'static str, store: &Store, what: impl Into<String>, value: String) -> Self {
        Figure {
            bench,
            what: what.into(),
            store: store.name(),
            value,
            goal: None,
            met: None,
        }
    }

    pub fn goal(mut self, goal: &'static str, met: bool) -> Self {
        self.goal = Some(goal);
        self.met = Some(met);
        self
    }

    pub(super) fn print(&self) {
        let verdict = match self.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "| {} | {} | {} | {} | {} {} |",
            self.bench,
            self.what,
            self.store,
            self.value,
            self.goal.unwrap_or(""),
            verdict
        );
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
