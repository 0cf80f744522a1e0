-- The job system (jobs issue): worker processes and the end-to-end diagnostic job.

-- Every worker process, refreshed while it lives, so an operator can see "no worker
-- alive" and which worker holds which running job (jobs.lease_owner = workers.id).
CREATE TABLE job_workers (
    id            TEXT PRIMARY KEY,               -- host:pid:random, also the lease owner
    hostname      TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    concurrency   INTEGER NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    heartbeat_at  TIMESTAMPTZ NOT NULL,
    stopped_at    TIMESTAMPTZ
);
CREATE INDEX job_workers_heartbeat ON job_workers (heartbeat_at);

-- One row per completed `selftest` job (`icf jobs selftest`): written in the same
-- transaction that marks the job succeeded, so a row exists exactly when the job is done.
CREATE TABLE job_selftest_runs (
    job_id      UUID PRIMARY KEY,
    batch       TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_selftest_runs_batch ON job_selftest_runs (batch);
