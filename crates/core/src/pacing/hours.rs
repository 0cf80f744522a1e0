//! A group's daily posting window, read on each account's own clock.

use chrono::{DateTime, Duration, Utc};

use crate::auth::FieldError;

/// A daily posting window in the account's own local time (beyond the specification: what
/// operators of large fleets ask for, as real people do not post at 4 a.m.). `from` is
/// inclusive, `until` exclusive, both minutes after midnight; a window with `from > until`
/// runs past midnight (22:00-02:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHours {
    from: u16,
    until: u16,
}

const DAY_MINUTES: u16 = 24 * 60;

impl ActiveHours {
    /// `08:00-23:00` (an en dash also separates); `24:00` ends at midnight.
    pub fn parse(raw: &str) -> Result<ActiveHours, FieldError> {
        let err = || {
            FieldError::new(
                "active_hours",
                "expected a daily window like 08:00-23:00 (hours in the accounts' own time zone)",
            )
        };
        let raw = raw.trim();
        let (a, b) = raw
            .split_once('-')
            .or_else(|| raw.split_once('\u{2013}'))
            .ok_or_else(err)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (from, until) = (minutes(a).ok_or_else(err)?, minutes(b).ok_or_else(err)?);
        ActiveHours::from_minutes(i64::from(from), i64::from(until)).ok_or_else(|| {
            FieldError::new(
                "active_hours",
                "the window must not start where it ends (leave it empty to post at any hour)",
            )
        })
    }

    /// From stored minutes after midnight (0-1440); `None` when they are not a window.
    pub fn from_minutes(from: i64, until: i64) -> Option<ActiveHours> {
        let day = i64::from(DAY_MINUTES);
        let ok = |m: i64| (0..=day).contains(&m);
        (ok(from) && ok(until) && from % day != until % day).then(|| ActiveHours {
            from: (from % day) as u16,
            until: until as u16,
        })
    }

    /// Minutes after midnight at which the window opens.
    pub fn from_minute(self) -> u16 {
        self.from
    }

    /// Minutes after midnight at which it closes (1440: midnight).
    pub fn until_minute(self) -> u16 {
        self.until
    }

    /// The earliest moment at or after `at` inside the window, for an account whose clock is
    /// `utc_offset` seconds east of UTC.
    pub fn next_open(self, at: DateTime<Utc>, utc_offset: i32) -> DateTime<Utc> {
        let offset = Duration::seconds(i64::from(utc_offset));
        let local = at + offset;
        let midnight = local
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let minute = (local - midnight).num_minutes();
        let (from, until) = (i64::from(self.from), i64::from(self.until));
        let inside = if from < until {
            (from..until).contains(&minute)
        } else {
            minute >= from || minute < until
        };
        if inside {
            return at;
        }
        // Outside: the window opens today at `from` if that is still ahead, else tomorrow.
        let day = if minute < from {
            midnight
        } else {
            midnight + Duration::days(1)
        };
        day + Duration::minutes(from) - offset
    }
}

impl std::fmt::Display for ActiveHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.from / 60,
            self.from % 60,
            self.until / 60,
            self.until % 60
        )
    }
}
