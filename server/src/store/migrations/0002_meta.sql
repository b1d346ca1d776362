-- Facts about the store itself, e.g. a value sealed under the root key so a
-- start with another root key is refused before it can read anything.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
