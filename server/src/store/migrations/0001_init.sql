-- Each resource is one JSON document (the domain struct) plus the columns
-- that lookups and listings filter on. Key material and secret contents in
-- the documents are sealed/encrypted before they get here.
CREATE TABLE vaults (
    id TEXT PRIMARY KEY,
    compartment_id TEXT NOT NULL,
    vault_key TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE INDEX vaults_compartment ON vaults (compartment_id);

CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id),
    compartment_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX keys_vault ON keys (vault_id, compartment_id);

CREATE TABLE key_versions (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES keys (id),
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX key_versions_key ON key_versions (key_id, seq);

CREATE TABLE secrets (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id),
    compartment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (vault_id, name)
);
CREATE INDEX secrets_compartment ON secrets (compartment_id);

CREATE TABLE secret_versions (
    secret_id TEXT NOT NULL REFERENCES secrets (id),
    version_number INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (secret_id, version_number)
);

-- opc-retry-token: (operation, principal, token) → the resource it created.
CREATE TABLE retry_tokens (
    scope TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    time_created TEXT NOT NULL
);
