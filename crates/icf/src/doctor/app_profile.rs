//! The Instagram app profile: recent enough that Instagram still accepts it.

use chrono::NaiveDate;

use super::report::Check;
use crate::config::Settings;

/// Instagram ships a new major version of its Android app every week; the profiles carry
/// no dates, so the age is reckoned from the major version against one known release.
const KNOWN_RELEASE: (u32, (i32, u32, u32)) = (449, (2026, 10, 1));
/// Past this, Instagram starts answering old app versions with `needs_upgrade`.
const STALE_AFTER_DAYS: i64 = 120;

/// The estimated release date of an app version like `449.0.0.52.84`.
pub fn estimated_release(app_version: &str) -> Option<NaiveDate> {
    let major: i64 = app_version.split('.').next()?.parse().ok()?;
    let (known_major, (y, m, d)) = KNOWN_RELEASE;
    let known = NaiveDate::from_ymd_opt(y, m, d)?;
    known.checked_add_signed(chrono::Duration::weeks(major - i64::from(known_major)))
}

pub(super) fn app_profile(settings: &Settings, today: NaiveDate) -> Check {
    const NAME: &str = "instagram app profile";
    let profile = settings.instagram.app_profiles.default_profile();
    let version = &profile.app_version;
    let source = if std::env::var_os("INSTAGRAM_APP_PROFILE").is_some_and(|v| !v.is_empty()) {
        "INSTAGRAM_APP_PROFILE"
    } else {
        "built in"
    };
    let Some(released) = estimated_release(version) else {
        return Check::warn(
            NAME,
            format!("default {version} ({source}): its age cannot be estimated"),
            "check the version against the current Instagram release (INSTAGRAM.md)",
        );
    };
    let days = (today - released).num_days().max(0);
    let detail =
        format!("default {version} ({source}), released about {released} ({days} days ago)");
    if days > STALE_AFTER_DAYS {
        Check::warn(
            NAME,
            detail,
            "put a current release (app_version, version_code, bloks_versioning_id) into a \
             profile file and point INSTAGRAM_APP_PROFILE at it (see INSTAGRAM.md)",
        )
    } else {
        Check::ok(NAME, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_versions_are_dated_a_week_per_major_release() {
        assert_eq!(
            estimated_release("449.0.0.52.84"),
            NaiveDate::from_ymd_opt(2026, 10, 1)
        );
        assert_eq!(
            estimated_release("448.0.0.0.20"),
            NaiveDate::from_ymd_opt(2026, 9, 24)
        );
        assert_eq!(estimated_release("x.0"), None);
    }
}
