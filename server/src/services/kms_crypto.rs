//! KMS crypto (`KmsCryptoClient`), served at each vault's `cryptoEndpoint`.
//! Models: <https://docs.oracle.com/en-us/iaas/api/#/en/key/release/EncryptedData/>.
//!
//! The request types carry plaintext, so none of them derives `Debug`.
//! Store reads happen in one short transaction; the AES work happens after,
//! outside the store's lock, with material from the keyring's cache.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::kms_management::KeyShape;
use super::{Ctx, Reply};
use crate::crypto::{self, B64};
use crate::domain::keys::{self, KeyVersion};
use crate::domain::Error;
use crate::error::ApiError;
use crate::state::AppState;

/// The only `encryptionAlgorithm` for AES keys.
const AES_256_GCM: &str = "AES_256_GCM";
/// OCI's limit on the string form of `associatedData`, in characters.
const MAX_ASSOCIATED_DATA: usize = 4096;

/// `EncryptDataDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptDataDetails {
    /// Required here; the pipeline's resolver loaded the key it names.
    #[allow(dead_code)]
    key_id: String,
    plaintext: String,
    associated_data: Option<BTreeMap<String, String>>,
    key_version_id: Option<String>,
    encryption_algorithm: Option<String>,
}

/// `EncryptedData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedData {
    ciphertext: String,
    key_id: String,
    key_version_id: String,
    encryption_algorithm: &'static str,
}

/// `DecryptDataDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptDataDetails {
    /// Required here; the pipeline's resolver loaded the key it names.
    #[allow(dead_code)]
    key_id: String,
    ciphertext: String,
    associated_data: Option<BTreeMap<String, String>>,
    encryption_algorithm: Option<String>,
}

/// `DecryptedData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptedData {
    plaintext: String,
    plaintext_checksum: String,
    key_id: String,
    key_version_id: String,
    encryption_algorithm: &'static str,
}

/// `GenerateKeyDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateKeyDetails {
    /// Required here; the pipeline's resolver loaded the key it names.
    #[allow(dead_code)]
    key_id: String,
    key_shape: KeyShape,
    include_plaintext_key: bool,
    associated_data: Option<BTreeMap<String, String>>,
}

/// `GeneratedKey`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedKey {
    ciphertext: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_checksum: Option<String>,
}

fn check_algorithm(given: Option<&str>) -> Result<(), ApiError> {
    match given {
        None | Some(AES_256_GCM) => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "encryptionAlgorithm must be AES_256_GCM for an AES key.",
        )),
    }
}

fn associated_data(map: Option<&BTreeMap<String, String>>) -> Result<Vec<u8>, ApiError> {
    let aad = crypto::associated_data(map);
    if aad.len() >= MAX_ASSOCIATED_DATA {
        return Err(ApiError::invalid(format!(
            "associatedData must be shorter than {MAX_ASSOCIATED_DATA} characters."
        )));
    }
    Ok(aad)
}

/// The key version a crypto call uses: the key the body named, found in
/// this endpoint's vault by the resolver (404 when absent or in another
/// vault), `ENABLED` (409), and `version_id` when given (it must be this
/// key's and enabled), else its current version.
async fn usable_version(
    app: &AppState,
    ctx: &Ctx<'_>,
    version_id: Option<String>,
) -> Result<KeyVersion, ApiError> {
    let (key, now) = (ctx.target.key()?.clone(), ctx.now);
    Ok(app
        .store
        .read(move |tx| keys::usable_version(tx, &key, version_id.as_deref(), now))
        .await?)
}

fn material(
    app: &AppState,
    version: &KeyVersion,
) -> Result<std::sync::Arc<crypto::KeyBytes>, ApiError> {
    Ok(app.keyring.material(&version.id, || version.sealed())?)
}

/// `Encrypt`: `POST /20180608/encrypt`.
pub async fn encrypt(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: EncryptDataDetails = ctx.json()?;
    check_algorithm(details.encryption_algorithm.as_deref())?;
    let aad = associated_data(details.associated_data.as_ref())?;
    let plaintext = crypto::KeyBytes::new(
        B64.decode(details.plaintext.trim())
            .map_err(|_| ApiError::invalid("plaintext must be base64."))?,
    );
    let version = usable_version(app, ctx, details.key_version_id).await?;
    let sealed = crypto::seal(&material(app, &version)?, &aad, &plaintext)?;
    Reply::json(&EncryptedData {
        ciphertext: crypto::encode_ciphertext(&version.id, &sealed),
        key_id: version.key_id,
        key_version_id: version.id,
        encryption_algorithm: AES_256_GCM,
    })
}

/// `Decrypt`: `POST /20180608/decrypt`. The ciphertext names its key
/// version, so it decrypts after rotation; the key version must belong to
/// `keyId`, and `associatedData` must equal Encrypt's (else 400).
pub async fn decrypt(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: DecryptDataDetails = ctx.json()?;
    check_algorithm(details.encryption_algorithm.as_deref())?;
    let aad = associated_data(details.associated_data.as_ref())?;
    let (version_id, sealed) =
        crypto::decode_ciphertext(&details.ciphertext).map_err(ApiError::from)?;
    let version = usable_version(app, ctx, Some(version_id))
        .await
        .map_err(|e| {
            if e.code == crate::error::ErrorCode::InvalidParameter {
                ApiError::from(Error::InvalidCiphertext)
            } else {
                e
            }
        })?;
    let plaintext = crypto::open(&material(app, &version)?, &aad, &sealed)?;
    Reply::json(&DecryptedData {
        plaintext: B64.encode(&*plaintext),
        plaintext_checksum: crypto::checksum(&plaintext),
        key_id: version.key_id,
        key_version_id: version.id,
        encryption_algorithm: AES_256_GCM,
    })
}

/// `GenerateDataEncryptionKey`: `POST /20180608/generateDataEncryptionKey`:
/// a fresh AES key of `keyShape.length` bytes, encrypted under the master
/// key's current version; its plaintext only when `includePlaintextKey`.
pub async fn generate_data_encryption_key(
    app: &AppState,
    ctx: &Ctx<'_>,
) -> Result<Reply, ApiError> {
    let details: GenerateKeyDetails = ctx.json()?;
    let shape = details.key_shape.parse()?;
    let aad = associated_data(details.associated_data.as_ref())?;
    let version = usable_version(app, ctx, None).await?;
    let data_key = crypto::random_bytes(shape.length as usize);
    let sealed = crypto::seal(&material(app, &version)?, &aad, &data_key)?;
    let include = details.include_plaintext_key;
    Reply::json(&GeneratedKey {
        ciphertext: crypto::encode_ciphertext(&version.id, &sealed),
        plaintext: include.then(|| B64.encode(&*data_key)),
        plaintext_checksum: include.then(|| crypto::checksum(&data_key)),
    })
}
