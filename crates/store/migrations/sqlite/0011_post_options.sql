-- no-transaction
-- What a post carries beside media and caption (issue 21, [post-options]).
-- SQLite cannot change a CHECK constraint, so `posts` is rebuilt to let media_type be
-- 'story' (the documented twelve steps: foreign keys off outside the transaction, a new
-- table, copy, drop, rename, check). Without the pragma, dropping the old table would
-- cascade-delete every translation and execution of every post.
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
                        CHECK (status IN ('draft', 'pending', 'posting', 'completed', 'failed')),
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
    target_groups, status, priority, scheduled_at, created_by, created_at, updated_at, posted_at)
SELECT id, media_paths, media_type, caption_original, original_language,
    target_groups, status, priority, scheduled_at, created_by, created_at, updated_at, posted_at
FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
CREATE INDEX posts_status ON posts (status, scheduled_at);
CREATE INDEX posts_created ON posts (created_at);

-- The first comment and the alt texts in each language, beside the caption.
ALTER TABLE post_translations ADD COLUMN first_comment TEXT;
ALTER TABLE post_translations ADD COLUMN alt_text TEXT;     -- JSON array, one per media item

-- An execution carries its texts (settled at publish time) and its first comment's own step.
ALTER TABLE post_executions ADD COLUMN first_comment TEXT;
ALTER TABLE post_executions ADD COLUMN alt_text TEXT;       -- JSON array
ALTER TABLE post_executions ADD COLUMN comment_status TEXT
    CHECK (comment_status IN ('queued', 'posting', 'success', 'failed', 'cancelled'));
ALTER TABLE post_executions ADD COLUMN comment_id TEXT;
ALTER TABLE post_executions ADD COLUMN comment_error TEXT;
ALTER TABLE post_executions ADD COLUMN commented_at TEXT;
COMMIT;
PRAGMA foreign_keys = ON;
