-- How many failed sign-ins led to each block, for the Settings tab's list of blocked addresses.
ALTER TABLE ip_blocks ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
