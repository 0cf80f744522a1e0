-- The end of a spacing scope's waiting line (issue 20). After downtime every overdue publish
-- of a scope is due at once: one goes, and each of the others used to be moved to the scope's
-- last start plus a random spacing — all to about the same moment, where one went and the
-- rest were moved again (about N²/2 moves for N publishes). A publish that finds the scope
-- taken now joins the end of the line: it is moved to the latest start handed out so far plus
-- a random spacing, and this column keeps that latest start.
ALTER TABLE pacing_marks ADD COLUMN queue_end_at TIMESTAMPTZ;
