-- A list's own confirmation message (JSON: subject, html, text), instead of the built-in one.
ALTER TABLE lists ADD COLUMN confirmation TEXT;
