use std::collections::HashMap;

use icf_core::caption::CaptionRules;
use icf_translate::ProviderKind;
use secrecy::ExposeSecret;

use super::*;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn nothing_set_means_sqlite_in_the_data_dir() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.database.url, "sqlite://./data/icf.db");
    assert_eq!(s.server.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(s.worker.max_concurrent_tasks, 50);
    assert_eq!(s.pacing.max_posts_per_day_per_account, 10);
    assert_eq!(
        (
            s.pacing.min_delay_between_posts_sec,
            s.pacing.max_delay_between_posts_sec
        ),
        (120, 300)
    );
    assert!(s.database.auto_migrate);
}

#[test]
fn bad_values_name_the_variable_and_the_expectation() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "ICF_LISTEN",
            "localhost",
            "expected an address like 127.0.0.1:8000",
        ),
        ("DATABASE_URL", "mysql://x", "sqlite:// or postgres://"),
        (
            "MAX_CONCURRENT_TASKS",
            "lots",
            "expected a whole number from 1 to 1000",
        ),
        ("MAX_CONCURRENT_TASKS", "0", "from 1 to 1000"),
        ("ENCRYPTION_KEY", "short", "not a Fernet key"),
        ("SECRET_KEY", "tooshort", "at least 32 characters"),
        ("ICF_LOG_FORMAT", "xml", "'text' or 'json'"),
        ("ICF_AUTO_MIGRATE", "maybe", "true or false"),
        ("ICF_PROXY_CHECK_URL", "ftp://x", "http:// or https://"),
        ("ICF_PROXY_CHECK_TIMEOUT_SECS", "0", "from 1 to 120"),
        ("ICF_JOB_LEASE_SECS", "0", "from 1 to 3600"),
        (
            "ICF_JOB_RETENTION_DAYS",
            "forever",
            "a whole number from 1 to 3650",
        ),
        (
            "INSTAGRAM_APP_PROFILE",
            "/nonexistent/profiles.json",
            "cannot read",
        ),
        ("INSTAGRAM_API_URL", "ftp://x", "expected a base URL"),
        ("INSTAGRAM_API_CA", "/nonexistent/ca.pem", "cannot read"),
        (
            "INSTAGRAM_API_URL",
            "https://i.instagram.com/api/v1",
            "expected a base URL",
        ),
    ];
    for (var, value, expected) in cases {
        let err = settings(&[(var, value)]).unwrap_err();
        assert_eq!(err.variable, *var);
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn secret_values_are_not_echoed() {
    let err = settings(&[("SECRET_KEY", "hunter2-secret")]).unwrap_err();
    assert!(!err.to_string().contains("hunter2"));
    let err = settings(&[("ENCRYPTION_KEY", "hunter2-secret")]).unwrap_err();
    assert!(!err.to_string().contains("hunter2"));
    let err = settings(&[("DATABASE_URL", "mysql://u:hunter2@h/db")]).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn the_translation_provider_follows_the_keys_deepl_first() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.translation.provider, None);
    assert!(s.translation_config().primary.is_none());
    let s = settings(&[("LIBRETRANSLATE_URL", "http://127.0.0.1:5000/")]).unwrap();
    assert_eq!(s.translation.provider, Some(ProviderKind::LibreTranslate));
    let s = settings(&[
        ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
        ("DEEPL_API_KEY", "d-key:fx"),
    ])
    .unwrap();
    assert_eq!(s.translation.provider, Some(ProviderKind::DeepL));
    let s = settings(&[
        ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
        ("DEEPL_API_KEY", "d-key:fx"),
        ("TRANSLATION_PROVIDER", "google"),
        ("TRANSLATION_FALLBACK_PROVIDER", "deepl"),
    ])
    .unwrap();
    assert_eq!(s.translation.provider, Some(ProviderKind::Google));
    assert_eq!(s.translation.fallback_provider, Some(ProviderKind::DeepL));
    let s = settings(&[("DEEPL_API_KEY", "k"), ("TRANSLATION_PROVIDER", "none")]).unwrap();
    assert_eq!(s.translation.provider, None);
}

#[test]
fn bad_translation_settings_name_the_variable_without_the_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("TRANSLATION_PROVIDER", "bing")], "TRANSLATION_PROVIDER"),
        (&[("TRANSLATION_PROVIDER", "deepl")], "TRANSLATION_PROVIDER"),
        (
            &[
                ("DEEPL_API_KEY", "hunter2"),
                ("TRANSLATION_FALLBACK_PROVIDER", "deepl"),
            ],
            "TRANSLATION_FALLBACK_PROVIDER",
        ),
        (&[("DEEPL_API_URL", "ftp://x")], "DEEPL_API_URL"),
        (
            &[("TRANSLATION_ENGLISH_VARIANT", "pt-BR")],
            "TRANSLATION_ENGLISH_VARIANT",
        ),
        (&[("ICF_MAX_HASHTAGS", "31")], "ICF_MAX_HASHTAGS"),
        (&[("ICF_MAX_HASHTAGS", "five")], "ICF_MAX_HASHTAGS"),
        (
            &[("ICF_CAPTION_MAX_HASHTAGS", "31")],
            "ICF_CAPTION_MAX_HASHTAGS",
        ),
        (
            &[
                ("ICF_MAX_HASHTAGS", "5"),
                ("ICF_CAPTION_MAX_HASHTAGS", "30"),
            ],
            "ICF_MAX_HASHTAGS",
        ),
        (
            &[("ICF_CAPTION_MAX_MENTIONS", "21")],
            "ICF_CAPTION_MAX_MENTIONS",
        ),
    ];
    for (vars, variable) in cases {
        let err = settings(vars).unwrap_err();
        assert_eq!(err.variable, *variable);
        assert!(!err.to_string().contains("hunter2"));
    }
    let s = settings(&[("DEEPL_API_KEY", "hunter2")]).unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn caption_rules_are_instagrams_with_a_configurable_hashtag_limit() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.instagram.caption_rules, CaptionRules::INSTAGRAM);
    assert_eq!(s.instagram.caption_rules.max_hashtags, 5);
    let hashtags =
        |vars: &[(&str, &str)]| settings(vars).unwrap().instagram.caption_rules.max_hashtags;
    assert_eq!(hashtags(&[("ICF_MAX_HASHTAGS", "10")]), 10);
    assert_eq!(hashtags(&[("ICF_MAX_HASHTAGS", "0")]), 0);
    assert_eq!(hashtags(&[("ICF_MAX_HASHTAGS", "")]), 5);
    // The deprecated name still works, alone or agreeing with the new one.
    assert_eq!(hashtags(&[("ICF_CAPTION_MAX_HASHTAGS", "30")]), 30);
    assert_eq!(
        hashtags(&[("ICF_MAX_HASHTAGS", "7"), ("ICF_CAPTION_MAX_HASHTAGS", "7")]),
        7
    );
    // The translator gets the same rules.
    let s = settings(&[("ICF_MAX_HASHTAGS", "3"), ("ICF_CAPTION_MAX_MENTIONS", "4")]).unwrap();
    assert_eq!(s.translation_config().limits, s.instagram.caption_rules);
    assert_eq!(
        (
            s.instagram.caption_rules.max_hashtags,
            s.instagram.caption_rules.max_mentions
        ),
        (3, 4)
    );
}

#[test]
fn instagram_settings_default_to_the_real_service_and_built_in_profiles() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.instagram.api_url, "https://i.instagram.com");
    assert_eq!(
        s.instagram.app_profiles.default_profile().app_version,
        "449.0.0.52.84"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    let hash = "b".repeat(64);
    std::fs::write(
        &path,
        format!(r#"{{"default":"450.0.0.1.1","profiles":[{{"app_version":"450.0.0.1.1","version_code":"1","bloks_versioning_id":"{hash}"}}]}}"#),
    )
    .unwrap();
    let s = settings(&[
        ("INSTAGRAM_APP_PROFILE", path.to_str().unwrap()),
        ("INSTAGRAM_API_URL", "http://127.0.0.1:9100/"),
    ])
    .unwrap();
    assert_eq!(
        s.instagram.app_profiles.default_profile().app_version,
        "450.0.0.1.1"
    );
    assert_eq!(s.instagram.api_url, "http://127.0.0.1:9100");
    std::fs::write(&path, "{}").unwrap();
    let err = settings(&[("INSTAGRAM_APP_PROFILE", path.to_str().unwrap())]).unwrap_err();
    assert_eq!(err.variable, "INSTAGRAM_APP_PROFILE");
}

#[test]
fn pacing_speed_defaults_to_real_time_and_is_bounded() {
    assert_eq!(settings(&[]).unwrap().pacing.speed, 1);
    assert_eq!(
        settings(&[("ICF_PACING_SPEED", "60")])
            .unwrap()
            .pacing
            .speed,
        60
    );
    for bad in ["0", "4000", "fast"] {
        let err = settings(&[("ICF_PACING_SPEED", bad)]).unwrap_err();
        assert_eq!(err.variable, "ICF_PACING_SPEED", "{bad}");
    }
}

#[test]
fn image_pixels_and_media_concurrency_are_bounded() {
    let s = settings(&[]).unwrap();
    assert_eq!(
        (s.media.max_image_pixels, s.media.concurrency),
        (50_000_000, 2)
    );
    let s = settings(&[
        ("ICF_MAX_IMAGE_PIXELS", "24000000"),
        ("ICF_MEDIA_CONCURRENCY", "1"),
    ])
    .unwrap();
    assert_eq!(
        (s.media.max_image_pixels, s.media.concurrency),
        (24_000_000, 1)
    );
    for (var, bad) in [
        ("ICF_MAX_IMAGE_PIXELS", "0"),
        ("ICF_MAX_IMAGE_PIXELS", "50MP"),
        ("ICF_MAX_IMAGE_PIXELS", "2000000000"),
        ("ICF_MEDIA_CONCURRENCY", "0"),
        ("ICF_MEDIA_CONCURRENCY", "many"),
        ("ICF_MEDIA_CONCURRENCY", "65"),
    ] {
        let err = settings(&[(var, bad)]).unwrap_err();
        assert_eq!(err.variable, var, "{bad}");
        assert!(err.to_string().contains("a whole number from"), "{err}");
    }
}

#[test]
fn min_delay_above_max_is_refused() {
    let err = settings(&[
        ("MIN_DELAY_BETWEEN_POSTS_SEC", "400"),
        ("MAX_DELAY_BETWEEN_POSTS_SEC", "300"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "MAX_DELAY_BETWEEN_POSTS_SEC");
}

#[test]
fn several_fernet_keys_are_accepted() {
    let a = fernet::Fernet::generate_key();
    let b = fernet::Fernet::generate_key();
    assert!(settings(&[("ENCRYPTION_KEY", &format!("{a}, {b}"))]).is_ok());
}

#[test]
fn generated_secrets_are_private_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().to_str().unwrap();
    let mut s = settings(&[("ICF_DATA_DIR", dir_s)]).unwrap();
    assert_eq!(
        s.ensure_secrets().unwrap(),
        vec!["SECRET_KEY", "ENCRYPTION_KEY"]
    );
    let first = s
        .auth
        .secret_key
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret_key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut again = settings(&[("ICF_DATA_DIR", dir_s)]).unwrap();
    assert!(again.ensure_secrets().unwrap().is_empty());
    assert_eq!(again.auth.secret_key.unwrap().expose_secret(), first);
}

#[test]
fn http_limits_have_safe_defaults_and_bounds() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.server.header_timeout_secs, 30);
    assert_eq!(s.server.body_timeout_secs, 60);
    assert_eq!(s.server.max_connections, 1024);
    assert!(!s.server.secure_cookies);
    let s = settings(&[
        ("ICF_HTTP_HEADER_TIMEOUT_SECS", "5"),
        ("ICF_HTTP_BODY_TIMEOUT_SECS", "120"),
        ("ICF_HTTP_MAX_CONNECTIONS", "200"),
        ("ICF_SECURE_COOKIES", "true"),
    ])
    .unwrap();
    assert_eq!(s.server.header_timeout_secs, 5);
    assert_eq!(s.server.body_timeout_secs, 120);
    assert_eq!(s.server.max_connections, 200);
    assert!(s.server.secure_cookies);
    for (var, bad) in [
        ("ICF_HTTP_HEADER_TIMEOUT_SECS", "0"),
        ("ICF_HTTP_HEADER_TIMEOUT_SECS", "601"),
        ("ICF_HTTP_BODY_TIMEOUT_SECS", "0"),
        ("ICF_HTTP_MAX_CONNECTIONS", "0"),
        ("ICF_HTTP_MAX_CONNECTIONS", "many"),
        ("ICF_SECURE_COOKIES", "yes please"),
    ] {
        let err = settings(&[(var, bad)]).unwrap_err();
        assert_eq!(err.variable, var, "{bad}");
    }
}

#[test]
fn urls_are_redacted() {
    assert_eq!(
        redact_url("postgres://icf:pw@db:5432/icf"),
        "postgres://icf:***@db:5432/icf"
    );
    assert_eq!(
        redact_url("sqlite://./data/icf.db"),
        "sqlite://./data/icf.db"
    );
}
