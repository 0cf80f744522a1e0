-- An account's publishes outlive the posts they came from: pacing (the 30-minute gap, the
-- daily limit) reads this history, so deleting a just-published post cannot let its
-- accounts post again at once. "unconfirmed" publishes (configure may have gone through)
-- count as publishes. Rows go only with their account.
CREATE TABLE account_publishes (
    execution_id  TEXT NOT NULL,                  -- no foreign key: the execution may be deleted
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'unconfirmed')),
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id       TEXT NOT NULL,                  -- likewise
    at            TEXT NOT NULL,
    PRIMARY KEY (execution_id, outcome)
) STRICT;
CREATE INDEX account_publishes_account ON account_publishes (account_id, at);

INSERT INTO account_publishes (execution_id, outcome, account_id, post_id, at)
    SELECT id, 'success', account_id, post_id, posted_at FROM post_executions
    WHERE status = 'success' AND posted_at IS NOT NULL;
INSERT INTO account_publishes (execution_id, outcome, account_id, post_id, at)
    SELECT id, 'unconfirmed', account_id, post_id, updated_at FROM post_executions
    WHERE status = 'failed' AND error_class = 'unconfirmed';

-- When each spacing scope (one post, or all of icf) last started or made a publish. A
-- publishing job claims its start here with a compare-and-set, so that after downtime the
-- overdue jobs of a scope go out a random 2–5 minutes apart instead of back to back, however
-- many workers run them.
CREATE TABLE pacing_marks (
    scope    TEXT PRIMARY KEY,                    -- 'post:<id>' or 'global'
    last_at  TEXT NOT NULL
) STRICT;
