-- no-transaction
-- Approvals (issue 23, [workflow]): posts may wait for an admin (`in_review`) or be sent
-- back with a comment (`rejected`), and every decision is kept with who and when.
-- SQLite cannot change a CHECK constraint, so `posts` is rebuilt as in 0011 (foreign keys
-- off outside the transaction, so dropping the old table cascades nothing).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE posts_new (
    id                  TEXT PRIMARY KEY,
    media_paths         TEXT NOT NULL,            -- ordered array of stored media keys
    media_type          TEXT NOT NULL CHECK (media_type IN ('photo', 'video', 'carousel', 'reel', 'story')),
    caption_original    TEXT NOT NULL,
    original_language   TEXT NOT NULL,
    target_groups       TEXT NOT NULL,            -- array of group ids
    status              TEXT NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'in_review', 'rejected', 'pending', 'posting', 'completed', 'failed')),
    priority            TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('high', 'normal', 'low')),
    scheduled_at        TEXT,
    created_by          TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    posted_at           TEXT,
    -- first comment, alt texts, location, tags, collaborators, switches (JSON, source language)
    options             TEXT NOT NULL DEFAULT '{}',
    -- what publishing found once for the whole post: Instagram's venue, tagged users' ids
    resolved            TEXT
) STRICT;
INSERT INTO posts_new (id, media_paths, media_type, caption_original, original_language,
    target_groups, status, priority, scheduled_at, created_by, created_at, updated_at, posted_at,
    options, resolved)
SELECT id, media_paths, media_type, caption_original, original_language,
    target_groups, status, priority, scheduled_at, created_by, created_at, updated_at, posted_at,
    options, resolved
FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
CREATE INDEX posts_status ON posts (status, scheduled_at);
CREATE INDEX posts_created ON posts (created_at);

-- Each step of a post's review, oldest first. A submission carries what was asked for
-- (when, priority) so that the approval publishes the post as it was submitted.
CREATE TABLE post_reviews (
    id            TEXT PRIMARY KEY,
    post_id       TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    decision      TEXT NOT NULL CHECK (decision IN ('submitted', 'approved', 'rejected', 'returned')),
    user_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
    username      TEXT NOT NULL,
    comment       TEXT,
    requested_at  TEXT,
    priority      TEXT CHECK (priority IN ('high', 'normal', 'low')),
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX post_reviews_post ON post_reviews (post_id, created_at);
COMMIT;
PRAGMA foreign_keys = ON;
