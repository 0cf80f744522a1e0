-- What needs a person (an account banned or waiting for a code, the proxy reserve empty, a
-- post failing, no worker alive): events gathered here and sent in groups by the
-- deliver_alerts job, so 500 bans make one message, not 500.
CREATE TABLE alert_events (
    id         UUID PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at    TIMESTAMPTZ
);
CREATE INDEX alert_events_unsent ON alert_events (kind, created_at) WHERE sent_at IS NULL;
