-- icf initial schema (PostgreSQL). The SQLite twin in ../sqlite/0001_initial.sql must
-- declare the same tables, columns, constraints and indexes.
-- Rules shared by both: UUID keys generated in Rust, timestamps always bound from Rust
-- (UTC), enums as TEXT + CHECK, booleans as BOOLEAN/INTEGER, JSON as JSONB/TEXT.

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,          -- stored lowercased
    email           TEXT NOT NULL UNIQUE,          -- stored lowercased
    password_hash   TEXT NOT NULL,                 -- argon2id PHC string
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor')),
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    -- bumped on password, role or activity change so older tokens stop working
    token_version   INTEGER NOT NULL DEFAULT 0,
    ui_language     TEXT,
    last_login_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE groups (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL UNIQUE,          -- lowercased name: names are unique case-insensitively
    description     TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE proxies (
    id              UUID PRIMARY KEY,
    proxy_type      TEXT NOT NULL CHECK (proxy_type IN ('http', 'socks5')),
    host            TEXT NOT NULL,
    port            INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    -- Fernet token of the credentials ("user:pass"); NULL when the proxy has none
    credentials_enc TEXT,
    -- keyed hash of the username, so the same proxy is not imported twice without
    -- storing the username in clear
    credentials_key TEXT NOT NULL DEFAULT '',
    country         TEXT,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failed', 'checking')),
    last_check_at   TIMESTAMPTZ,
    last_latency_ms INTEGER,
    last_error      TEXT,
    success_rate    DOUBLE PRECISION NOT NULL DEFAULT 1.0 CHECK (success_rate BETWEEN 0.0 AND 1.0),
    checks_total    INTEGER NOT NULL DEFAULT 0,
    checks_ok       INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (proxy_type, host, port, credentials_key)
);
CREATE INDEX proxies_status ON proxies (status);

CREATE TABLE accounts (
    id                  UUID PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,      -- Instagram username, lowercased
    password_enc        TEXT NOT NULL,             -- Fernet: icf must send it to Instagram
    session_data_enc    TEXT,                      -- Fernet of the instagrapi settings JSON
    totp_secret_enc     TEXT,                      -- Fernet of the two-factor TOTP secret
    group_id            UUID REFERENCES groups (id) ON DELETE RESTRICT,
    language            TEXT NOT NULL,
    -- one proxy serves at most one account: the UNIQUE is the guarantee, not the code
    proxy_id            UUID UNIQUE REFERENCES proxies (id) ON DELETE SET NULL,
    status              TEXT NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'banned', 'cooldown', 'login_required', 'proxy_error')),
    status_reason       TEXT,
    cooldown_until      TIMESTAMPTZ,
    pending_challenge   JSONB,                     -- what Instagram asks a human for, if anything
    -- the emulated Android device, generated once and kept for the account's life
    device_id           TEXT NOT NULL,             -- android_device_id
    user_agent          TEXT NOT NULL,
    device              JSONB NOT NULL,            -- model, dpi, uuids… (instagram issue)
    locale              TEXT,
    timezone_offset     INTEGER,
    posts_limit_per_day INTEGER NOT NULL DEFAULT 10 CHECK (posts_limit_per_day BETWEEN 0 AND 100),
    warmup_stage        INTEGER NOT NULL DEFAULT 0 CHECK (warmup_stage BETWEEN 0 AND 3),
    -- when the Instagram account was created, if older than its time in icf (warm-up)
    registered_at       TIMESTAMPTZ,
    last_post_at        TIMESTAMPTZ,
    last_login_at       TIMESTAMPTZ,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_group ON accounts (group_id, status);
CREATE INDEX accounts_status ON accounts (status);
CREATE INDEX accounts_language ON accounts (language);

CREATE TABLE account_status_history (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    old_status  TEXT CHECK (old_status IN ('active', 'banned', 'cooldown', 'login_required', 'proxy_error')),
    new_status  TEXT NOT NULL CHECK (new_status IN ('active', 'banned', 'cooldown', 'login_required', 'proxy_error')),
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_status_history_account ON account_status_history (account_id, created_at);

CREATE TABLE posts (
    id                  UUID PRIMARY KEY,
    media_paths         JSONB NOT NULL,            -- ordered array of stored media keys
    media_type          TEXT NOT NULL CHECK (media_type IN ('photo', 'video', 'carousel', 'reel')),
    caption_original    TEXT NOT NULL,
    original_language   TEXT NOT NULL,
    target_groups       JSONB NOT NULL,            -- array of group ids
    status              TEXT NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'pending', 'posting', 'completed', 'failed')),
    priority            TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('high', 'normal', 'low')),
    scheduled_at        TIMESTAMPTZ,
    created_by          UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    posted_at           TIMESTAMPTZ
);
CREATE INDEX posts_status ON posts (status, scheduled_at);
CREATE INDEX posts_created ON posts (created_at);

-- One caption per post and language: the source, a machine translation or a human edit.
CREATE TABLE post_translations (
    post_id     UUID NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    text        TEXT NOT NULL,
    origin      TEXT NOT NULL CHECK (origin IN ('source', 'machine', 'edited')),
    -- an edit made before the source caption changed: a person should look again
    stale       BOOLEAN NOT NULL DEFAULT FALSE,
    provider    TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (post_id, language)
);

CREATE TABLE post_executions (
    id                  UUID PRIMARY KEY,
    post_id             UUID NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id          UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    language            TEXT NOT NULL,
    caption_translated  TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'posting', 'success', 'failed', 'cancelled')),
    error_class         TEXT,
    error_message       TEXT,
    retry_count         INTEGER NOT NULL DEFAULT 0,
    planned_at          TIMESTAMPTZ,               -- the planner's time for this account
    -- written before the irreversible configure step, so a retry can ask Instagram
    -- whether the media already exists instead of posting twice
    upload_id           TEXT,
    instagram_media_id  TEXT,
    instagram_code      TEXT,
    posted_at           TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    -- the post is never published twice to the same account
    UNIQUE (post_id, account_id)
);
CREATE INDEX post_executions_status ON post_executions (status, planned_at);
CREATE INDEX post_executions_account ON post_executions (account_id, posted_at);

CREATE TABLE translations_cache (
    id              UUID PRIMARY KEY,
    text_hash       TEXT NOT NULL,                 -- sha256 of the normalised source text
    text_original   TEXT NOT NULL,
    language_from   TEXT NOT NULL,
    language_to     TEXT NOT NULL,
    text_translated TEXT NOT NULL,
    service         TEXT NOT NULL,
    hits            INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (text_hash, language_from, language_to)
);

CREATE TABLE activity_logs (
    id          UUID PRIMARY KEY,
    account_id  UUID REFERENCES accounts (id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('success', 'failed')),
    details     JSONB NOT NULL DEFAULT '{}',
    error_message TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX activity_logs_time ON activity_logs (created_at DESC, id DESC);
CREATE INDEX activity_logs_account ON activity_logs (account_id, created_at DESC);
CREATE INDEX activity_logs_action ON activity_logs (action, created_at DESC);

-- The job queue (jobs issue): the database is the broker.
CREATE TABLE jobs (
    id                UUID PRIMARY KEY,
    kind              TEXT NOT NULL,
    payload           JSONB NOT NULL,
    priority          SMALLINT NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2),
    state             TEXT NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    run_at            TIMESTAMPTZ NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL DEFAULT 1,
    last_error        TEXT,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    unique_key        TEXT UNIQUE,
    concurrency_key   TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ
);
CREATE INDEX jobs_ready ON jobs (priority DESC, run_at) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- at most one running job per concurrency key (one Instagram action per account at a time)
CREATE UNIQUE INDEX jobs_one_running_per_key ON jobs (concurrency_key) WHERE state = 'running';

CREATE TABLE job_attempts (
    id          UUID PRIMARY KEY,
    job_id      UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    duration_ms INTEGER,
    outcome     TEXT CHECK (outcome IN ('succeeded', 'retry', 'failed', 'timeout', 'lost')),
    error       TEXT
);
CREATE INDEX job_attempts_job ON job_attempts (job_id, attempt);
