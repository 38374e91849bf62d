-- Saved templates (issue 19): a subject, an HTML layout (its `{{ content }}` takes a campaign's
-- own content) and a text part, reusable across campaigns (`campaign create --template NAME`).
CREATE TABLE templates (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    subject     TEXT,
    html        TEXT NOT NULL,
    text        TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
