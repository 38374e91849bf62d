-- Whether a node ran `herald serve --sandbox`: sandbox mode is a property of the installation
-- (the newest node's mode), honoured by every command, not of one process.
ALTER TABLE nodes ADD COLUMN sandbox BIGINT NOT NULL DEFAULT 0;
