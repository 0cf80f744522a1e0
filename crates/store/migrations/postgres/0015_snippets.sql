-- Caption snippets and hashtag sets (issue 23, [workflow]), per group (NULL: every group)
-- and language. A name is unique within its group and language, whatever its case.
CREATE TABLE snippets (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,                 -- lowercased name
    group_id    UUID REFERENCES groups (id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX snippets_name ON snippets (COALESCE(group_id::text, ''), language, name_key);
