-- Glossaries (issue 23, [workflow]): one per language pair of icf's codes (the caption's
-- language, the account's language), each term's forced translation. `entries` is the JSON
-- list [{"term","translation"}] in alphabetical order; it is read whole, never queried into.
-- `version` goes up on every change. DeepL's glossaries cannot be edited, so the copy on
-- DeepL (`deepl_glossary_id`) belongs to one version: a change clears it in the same
-- statement, and the next translation that needs it makes a new one.
CREATE TABLE glossaries (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    name_key          TEXT NOT NULL UNIQUE,
    source_lang       TEXT NOT NULL,
    target_lang       TEXT NOT NULL CHECK (target_lang != source_lang),
    entries           TEXT NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    deepl_glossary_id TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CONSTRAINT glossaries_pair_key UNIQUE (source_lang, target_lang)
) STRICT;
