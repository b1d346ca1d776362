-- Each vault's RSA wrapping key (GetWrappingKey, ImportKey), made on first
-- use; its private key is sealed under the root key inside the document.
CREATE TABLE wrapping_keys (
    vault_id TEXT PRIMARY KEY REFERENCES vaults (id),
    doc TEXT NOT NULL
);
