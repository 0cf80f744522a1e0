-- What a post carries beside media and caption (issue 21, [post-options]).
ALTER TABLE posts DROP CONSTRAINT posts_media_type_check;
ALTER TABLE posts ADD CONSTRAINT posts_media_type_check
    CHECK (media_type IN ('photo', 'video', 'carousel', 'reel', 'story'));
-- first comment, alt texts, location, tags, collaborators, switches (source language)
ALTER TABLE posts ADD COLUMN options JSONB NOT NULL DEFAULT '{}';
-- what publishing found once for the whole post: Instagram's venue, tagged users' ids
ALTER TABLE posts ADD COLUMN resolved JSONB;

-- The first comment and the alt texts in each language, beside the caption.
ALTER TABLE post_translations ADD COLUMN first_comment TEXT;
ALTER TABLE post_translations ADD COLUMN alt_text JSONB;    -- array, one per media item

-- An execution carries its texts (settled at publish time) and its first comment's own step.
ALTER TABLE post_executions ADD COLUMN first_comment TEXT;
ALTER TABLE post_executions ADD COLUMN alt_text JSONB;
ALTER TABLE post_executions ADD COLUMN comment_status TEXT
    CHECK (comment_status IN ('queued', 'posting', 'success', 'failed', 'cancelled'));
ALTER TABLE post_executions ADD COLUMN comment_id TEXT;
ALTER TABLE post_executions ADD COLUMN comment_error TEXT;
ALTER TABLE post_executions ADD COLUMN commented_at TIMESTAMPTZ;
