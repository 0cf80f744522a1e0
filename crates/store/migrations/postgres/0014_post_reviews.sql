-- Approvals (issue 23, [workflow]): posts may wait for an admin (`in_review`) or be sent
-- back with a comment (`rejected`), and every decision is kept with who and when.
ALTER TABLE posts DROP CONSTRAINT posts_status_check;
ALTER TABLE posts ADD CONSTRAINT posts_status_check
    CHECK (status IN ('draft', 'in_review', 'rejected', 'pending', 'posting', 'completed', 'failed'));

-- Each step of a post's review, oldest first. A submission carries what was asked for
-- (when, priority) so that the approval publishes the post as it was submitted.
CREATE TABLE post_reviews (
    id            UUID PRIMARY KEY,
    post_id       UUID NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    decision      TEXT NOT NULL CHECK (decision IN ('submitted', 'approved', 'rejected', 'returned')),
    user_id       UUID REFERENCES users (id) ON DELETE SET NULL,
    username      TEXT NOT NULL,
    comment       TEXT,
    requested_at  TIMESTAMPTZ,
    priority      TEXT CHECK (priority IN ('high', 'normal', 'low')),
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX post_reviews_post ON post_reviews (post_id, created_at);
