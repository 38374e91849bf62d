-- A list's welcome message (JSON: subject, html, text): sent to a person once subscribed by their
-- own request (a single opt-in sign-up, a confirmed double opt-in). NULL: no welcome.
ALTER TABLE lists ADD COLUMN welcome TEXT;
