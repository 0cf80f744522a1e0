-- What a worker's hot path searches, found by profiling B2 (issue 20); each of these was a
-- scan that grew with the queue or the post:
-- * the claim orders the due jobs by priority, due time and id: without the id in the
--   index, the jobs due at the same moment (a whole post published "now") were read and
--   sorted on every claim;
-- * an idle worker asks when the next job is due: that was a scan of every queued job;
-- * ending a post asks whether any of its executions is still open or succeeded: that
--   read every execution of the post, or every successful execution of every post.
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX post_executions_post_status ON post_executions (post_id, status);
