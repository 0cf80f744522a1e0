-- An account list is mostly one group, often narrowed by status and language, sorted by
-- username. With all four in the index its count and its page are read from the index alone;
-- the old (group_id, status) index made SQLite visit every row of a big group for a count.
DROP INDEX accounts_group;
CREATE INDEX accounts_group ON accounts (group_id, status, language, username);
