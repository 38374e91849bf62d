-- Reply-To of a campaign's messages (issue 19): where replies go when not to the From address.
ALTER TABLE campaigns ADD COLUMN reply_to TEXT;
