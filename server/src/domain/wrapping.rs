//! Each vault's wrapping key, after the KMS `WrappingKey` model and Oracle's
//! "Importing Keys and Key Versions": an RSA key pair whose public half
//! (`GetWrappingKey`) callers wrap key material to before `ImportKey` and
//! `ImportKeyVersion`. The vault's `wrappingkeyId` is its OCID.
//!
//! It is made on first use (an RSA-4096 key pair takes up to a second, too
//! long to spend on every `CreateVault`), kept in its own table, and never
//! changes afterwards. The private key is sealed under the root key, bound
//! to the wrapping key's OCID, like key material.

use base64::Engine as _;
use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::vaults::Vault;
use super::{Error, Result};
use crate::crypto::asymmetric::{self, Kind, Oaep};
use crate::crypto::{KeyBytes, Keyring, B64};
use crate::store::{self, WRAPPING_KEYS};

/// The wrapping key's RSA modulus, in bytes (4096 bits).
pub const MODULUS_BYTES: usize = 512;

/// `WrappedImportKey.wrappingAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WrappingAlgorithm {
    /// RSA-OAEP (SHA-256, MGF1-SHA-256) of the material itself; fits AES
    /// keys, not RSA private keys.
    #[serde(rename = "RSA_OAEP_SHA256")]
    RsaOaepSha256,
    /// A temporary AES-256 key, RSA-OAEP wrapped, then the material under it
    /// with AES key wrap with padding (RFC 5649).
    #[serde(rename = "RSA_OAEP_AES_SHA256")]
    RsaOaepAesSha256,
}

/// A vault's wrapping key as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrappingKey {
    /// The vault's `wrappingkeyId`.
    pub id: String,
    /// The vault.
    pub vault_id: String,
    /// The vault's compartment.
    pub compartment_id: String,
    /// `publicKey`: PEM.
    pub public_key: String,
    /// `timeCreated`.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
    /// The PKCS #8 private key, sealed under the root key (base64).
    pub sealed_material: String,
}

/// The vault's wrapping key, if it has been made.
pub fn find(tx: &Connection, vault_id: &str) -> Result<Option<WrappingKey>> {
    Ok(store::get(tx, &WRAPPING_KEYS, vault_id)?)
}

/// A fresh wrapping key pair (PKCS #8), to hand to [`get_or_create`].
pub fn generate() -> Result<KeyBytes> {
    Ok(asymmetric::generate(Kind::Rsa(MODULUS_BYTES))?)
}

/// The vault's wrapping key: the stored one, or — the first time — one made
/// of `material` (from [`generate`]). Two first calls racing both end with
/// the key the first one stored.
pub fn get_or_create(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    vault: &Vault,
    material: &[u8],
) -> Result<WrappingKey> {
    if let Some(existing) = find(tx, &vault.id)? {
        return Ok(existing);
    }
    let public = asymmetric::public_key_der(Kind::Rsa(MODULUS_BYTES), material)?;
    let sealed = keyring
        .root()
        .seal_material(&vault.wrapping_key_id, material)?;
    let key = WrappingKey {
        id: vault.wrapping_key_id.clone(),
        vault_id: vault.id.clone(),
        compartment_id: vault.compartment_id.clone(),
        public_key: asymmetric::pem(&public),
        time_created: now,
        sealed_material: B64.encode(sealed),
    };
    tx.execute(
        "INSERT INTO wrapping_keys (vault_id, doc) VALUES (?1, ?2)",
        params![key.vault_id, store::doc(&key)?],
    )?;
    Ok(key)
}

/// Opens material a caller wrapped to `key`'s public key with `algorithm`.
///
/// # Errors
/// 400 `InvalidParameter` when it does not open: wrapped to another key,
/// corrupt, or RSA-OAEP of something longer than one block.
pub fn unwrap(
    keyring: &Keyring,
    key: &WrappingKey,
    algorithm: WrappingAlgorithm,
    wrapped: &[u8],
) -> Result<KeyBytes> {
    let sealed = B64
        .decode(&key.sealed_material)
        .map_err(|e| Error::Internal(anyhow::anyhow!("sealed wrapping key: {e}")))?;
    let private = keyring.root().unseal_material(&key.id, &sealed)?;
    let opened = match algorithm {
        WrappingAlgorithm::RsaOaepSha256 => {
            asymmetric::oaep_decrypt(&private, Oaep::Sha256, wrapped)
        }
        WrappingAlgorithm::RsaOaepAesSha256 => {
            asymmetric::unwrap_oaep_aes(&private, MODULUS_BYTES, wrapped)
        }
    };
    opened.map_err(|_| {
        Error::InvalidParameter(
            "wrappedImportKey.keyMaterial does not unwrap with this vault's wrapping key and wrappingAlgorithm."
                .into(),
        )
    })
}
