-- A line kept aside is stored once: the same text at the same line of the same file
-- content (`origin`: a digest of the file's first lines, or the snapshot's digest) is the
-- same rejected line, however often the file is read (reset-cursor, a renamed or
-- replaced file, two collections at once).
ALTER TABLE reject ADD COLUMN origin TEXT NOT NULL DEFAULT '';
UPDATE reject SET origin = source;
DELETE FROM reject WHERE id NOT IN (
    SELECT min(id) FROM reject GROUP BY collector, origin, line, text
);
UPDATE collector SET rejects = (SELECT count(*) FROM reject WHERE reject.collector = collector.name);
CREATE UNIQUE INDEX reject_identity ON reject (collector, origin, line, text);
