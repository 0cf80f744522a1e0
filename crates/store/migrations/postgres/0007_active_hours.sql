-- A group's daily posting window in each account's own local time (minutes after midnight,
-- the end exclusive, 1440 for midnight; a window may run past midnight). Both empty: any hour.
ALTER TABLE groups ADD COLUMN active_from INTEGER;
ALTER TABLE groups ADD COLUMN active_until INTEGER;
