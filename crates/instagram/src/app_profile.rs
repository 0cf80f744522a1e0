//! The emulated app release (fact sheet §1.2) as data: `data/app_profiles.json` is built
//! in, and an operator can point `INSTAGRAM_APP_PROFILE` at a newer copy without a rebuild,
//! because Instagram moves the version, version code and Bloks id together every few weeks.

use std::path::Path;

pub use icf_core::device::AppProfile;
use serde::Deserialize;

const BUILT_IN: &str = include_str!("../data/app_profiles.json");

/// The Instagram Android app's Facebook app id (`X-IG-App-ID`, the USDID token's audience).
/// Unlike the profile's values it has not changed between releases.
pub const APP_ID: &str = "567067343352427";

/// Why a profile file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AppProfileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("not a valid app profile file: {0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
struct File {
    default: String,
    profiles: Vec<AppProfile>,
}

/// The known app profiles, one of them the default for new and unknown sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppProfiles {
    default: usize,
    profiles: Vec<AppProfile>,
}

impl AppProfiles {
    /// The profiles shipped with icf.
    pub fn built_in() -> AppProfiles {
        // The built-in file is checked by a unit test, so this cannot fail at run time.
        Self::parse(BUILT_IN).unwrap_or_else(|_| AppProfiles {
            default: 0,
            profiles: vec![AppProfile::default()],
        })
    }

    /// The built-in profiles, or the file at `path` when given.
    pub fn load(path: Option<&Path>) -> Result<AppProfiles, AppProfileError> {
        match path {
            None => Ok(Self::built_in()),
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| AppProfileError::Read {
                        path: path.display().to_string(),
                        source,
                    })?;
                Self::parse(&text)
            }
        }
    }

    pub fn parse(text: &str) -> Result<AppProfiles, AppProfileError> {
        let file: File =
            serde_json::from_str(text).map_err(|e| AppProfileError::Invalid(e.to_string()))?;
        for p in &file.profiles {
            if p.app_version.split('.').count() < 3
                || !p.version_code.chars().all(|c| c.is_ascii_digit())
                || p.version_code.is_empty()
                || p.bloks_versioning_id.len() != 64
                || !p.bloks_versioning_id.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err(AppProfileError::Invalid(format!(
                    "profile '{}' needs a dotted app_version, a numeric version_code and a 64-hex bloks_versioning_id",
                    p.app_version
                )));
            }
        }
        let default = file
            .profiles
            .iter()
            .position(|p| p.app_version == file.default)
            .ok_or_else(|| {
                AppProfileError::Invalid(format!(
                    "the default '{}' is not one of the profiles",
                    file.default
                ))
            })?;
        Ok(AppProfiles {
            default,
            profiles: file.profiles,
        })
    }

    pub fn default_profile(&self) -> &AppProfile {
        &self.profiles[self.default]
    }

    pub fn find(&self, app_version: &str) -> Option<&AppProfile> {
        self.profiles.iter().find(|p| p.app_version == app_version)
    }

    pub fn all(&self) -> &[AppProfile] {
        &self.profiles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_file_parses_and_its_default_matches_instagrapi_3_2_2() {
        let profiles = AppProfiles::parse(BUILT_IN).unwrap();
        assert_eq!(profiles.default_profile(), &AppProfile::default());
        assert_eq!(profiles.all().len(), 6);
        assert_eq!(
            profiles.find("428.0.0.47.67").unwrap().version_code,
            "961145276"
        );
    }

    #[test]
    fn a_file_whose_default_is_missing_or_whose_hash_is_short_is_rejected() {
        let missing = r#"{"default":"1.0.0","profiles":[]}"#;
        assert!(AppProfiles::parse(missing).is_err());
        let short = r#"{"default":"1.2.3","profiles":[{"app_version":"1.2.3","version_code":"1","bloks_versioning_id":"ab"}]}"#;
        assert!(AppProfiles::parse(short).is_err());
    }

    #[test]
    fn an_operator_file_replaces_the_built_in_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let hash = "a".repeat(64);
        std::fs::write(
            &path,
            format!(r#"{{"default":"500.0.0.1.2","profiles":[{{"app_version":"500.0.0.1.2","version_code":"123","bloks_versioning_id":"{hash}"}}]}}"#),
        )
        .unwrap();
        let p = AppProfiles::load(Some(&path)).unwrap();
        assert_eq!(p.default_profile().app_version, "500.0.0.1.2");
        assert!(AppProfiles::load(Some(&dir.path().join("nope.json"))).is_err());
    }
}
