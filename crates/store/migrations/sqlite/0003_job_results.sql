-- What a finished job came to, for jobs someone waits on (an account's login run as a job:
-- the API answers with the outcome, or the client reads it later).
ALTER TABLE jobs ADD COLUMN result TEXT;
