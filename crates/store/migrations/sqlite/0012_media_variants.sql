-- Each account's own copy of a post's media (issue 22, [originality]).
-- Groups made before this keep sending one file to all their accounts ('off'): nothing an
-- operator set up changes under them. Groups made from now on start at 'light' (the API's
-- default).
ALTER TABLE groups ADD COLUMN media_variants TEXT NOT NULL DEFAULT 'off'
    CHECK (media_variants IN ('off', 'light', 'strong'));

-- What the account received, per media item in order: the variant's strength, SHA-256, size,
-- perceptual hash and its distance and similarity to the original. NULL: the original file.
ALTER TABLE post_executions ADD COLUMN variants TEXT;
