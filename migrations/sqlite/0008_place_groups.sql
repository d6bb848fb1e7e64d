-- Place groups (docs/SEMANTICS.md, section 11.1): the groups a snapshot's places have
-- (`<Place id="desk-4" groups="Floor2"/>`), a dimension of their own beside the agents'
-- groups (`grp`), so a group report lists agent groups only and a place-group report the
-- groups of places only, even where a tenant uses one name for both. A snapshot's places
-- are kept in its `data` blob with its agents.
CREATE TABLE place_grp (
    id     INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name   TEXT NOT NULL,
    UNIQUE (tenant, name)
);
