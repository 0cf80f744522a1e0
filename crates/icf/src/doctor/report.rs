//! The report: one line per check, OK, WARN or FAIL, with the fix under every failure.

use std::fmt;

use crate::config::ConfigError;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub level: Level,
    pub name: &'static str,
    pub detail: String,
    /// What to do about it; set for every FAIL and most WARNs.
    pub fix: Option<String>,
}

impl Check {
    pub(super) fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            level: Level::Ok,
            name,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(super) fn warn(
        name: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            level: Level::Warn,
            name,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub(super) fn fail(
        name: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            level: Level::Fail,
            name,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<4} {}: {}",
            self.level.label(),
            self.name,
            self.detail
        )?;
        if let Some(fix) = &self.fix {
            write!(f, "\n     fix: {fix}")?;
        }
        Ok(())
    }
}

/// The line for settings that did not parse (the other checks cannot run then).
pub fn config_failure(error: &ConfigError) -> Check {
    Check::fail(
        "configuration",
        error.to_string(),
        format!(
            "correct {} in the environment or .env (every variable is described in .env.example)",
            error.variable
        ),
    )
}

/// Prints the report; the process should exit non-zero when this returns false.
pub fn print(checks: &[Check]) -> bool {
    for c in checks {
        println!("{c}");
    }
    let fails = checks.iter().filter(|c| c.level == Level::Fail).count();
    let warns = checks.iter().filter(|c| c.level == Level::Warn).count();
    println!(
        "{} checks: {} failed, {} warnings",
        checks.len(),
        fails,
        warns
    );
    fails == 0
}

/// An error with its causes ("error sending request" alone says little).
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = s.source();
    }
    text
}

pub(super) fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 300 {
        line.chars().take(300).collect::<String>() + "…"
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_prints_its_fix_on_the_next_line() {
        let c = Check::fail("database", "cannot connect", "start it");
        assert_eq!(
            c.to_string(),
            "FAIL database: cannot connect\n     fix: start it"
        );
        assert_eq!(Check::ok("x", "fine").to_string(), "OK   x: fine");
        assert!(!print(&[c]));
    }

    #[test]
    fn a_config_failure_names_the_variable() {
        let e = ConfigError {
            variable: "ICF_LISTEN",
            problem: "expected an address".into(),
        };
        let c = config_failure(&e);
        assert_eq!(c.level, Level::Fail);
        assert!(c.fix.as_deref().unwrap().contains("ICF_LISTEN"));
    }
}
