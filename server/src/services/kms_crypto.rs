//! KMS crypto (`KmsCryptoClient`), served at each vault's `cryptoEndpoint`.
//! Models: <https://docs.oracle.com/en-us/iaas/api/#/en/key/release/EncryptedData/>.
//!
//! AES keys encrypt into the emulator's opaque envelope (`AES_256_GCM`);
//! RSA keys encrypt with standard RSA-OAEP (`RSA_OAEP_SHA_1`,
//! `RSA_OAEP_SHA_256`), so ciphertext made client-side with the version's
//! public key decrypts here and the other way round; RSA and ECDSA keys sign
//! and verify (`SignDataDetails.signingAlgorithm`).
//!
//! The request types carry plaintext, so none of them derives `Debug`.
//! Store reads happen in one short transaction; the crypto happens after,
//! outside the store's lock, with material from the keyring's cache; private
//! key operations of RSA and ECDSA run on the blocking pool.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::kms_management::KeyShape;
use super::{Ctx, Reply};
use crate::crypto::asymmetric::{self, Oaep};
use crate::crypto::evp::{self, Hash, Scheme};
use crate::crypto::{self, KeyBytes, B64};
use crate::domain::keys::{self, Algorithm, KeyVersion};
use crate::domain::Error;
use crate::error::ApiError;
use crate::state::AppState;

/// OCI's limit on the string form of `associatedData`, in characters.
const MAX_ASSOCIATED_DATA: usize = 4096;
/// OCI's limit on a `RAW` message to `Sign`/`Verify`, in bytes ("To sign a
/// larger message, provide the message digest", SignDataDetails).
const MAX_RAW_MESSAGE: usize = 4096;

/// `encryptionAlgorithm` of Encrypt/Decrypt (`EncryptDataDetails`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EncryptionAlgorithm {
    /// AES keys: the emulator's AES-GCM envelope.
    #[serde(rename = "AES_256_GCM")]
    Aes256Gcm,
    /// RSA keys: OAEP with SHA-1 (label hash and MGF1).
    #[serde(rename = "RSA_OAEP_SHA_1")]
    RsaOaepSha1,
    /// RSA keys: OAEP with SHA-256 (label hash and MGF1).
    #[serde(rename = "RSA_OAEP_SHA_256")]
    RsaOaepSha256,
}

/// `signingAlgorithm` of Sign/Verify (`SignDataDetails`, `SignedData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    #[serde(rename = "SHA_224_RSA_PKCS_PSS")]
    #[allow(missing_docs)]
    Sha224RsaPss,
    #[serde(rename = "SHA_256_RSA_PKCS_PSS")]
    #[allow(missing_docs)]
    Sha256RsaPss,
    #[serde(rename = "SHA_384_RSA_PKCS_PSS")]
    #[allow(missing_docs)]
    Sha384RsaPss,
    #[serde(rename = "SHA_512_RSA_PKCS_PSS")]
    #[allow(missing_docs)]
    Sha512RsaPss,
    #[serde(rename = "SHA_224_RSA_PKCS1_V1_5")]
    #[allow(missing_docs)]
    Sha224RsaPkcs1,
    #[serde(rename = "SHA_256_RSA_PKCS1_V1_5")]
    #[allow(missing_docs)]
    Sha256RsaPkcs1,
    #[serde(rename = "SHA_384_RSA_PKCS1_V1_5")]
    #[allow(missing_docs)]
    Sha384RsaPkcs1,
    #[serde(rename = "SHA_512_RSA_PKCS1_V1_5")]
    #[allow(missing_docs)]
    Sha512RsaPkcs1,
    #[serde(rename = "ECDSA_SHA_256")]
    #[allow(missing_docs)]
    EcdsaSha256,
    #[serde(rename = "ECDSA_SHA_384")]
    #[allow(missing_docs)]
    EcdsaSha384,
    #[serde(rename = "ECDSA_SHA_512")]
    #[allow(missing_docs)]
    EcdsaSha512,
}

impl SigningAlgorithm {
    /// The signature scheme: RSA PSS (MGF1 with the same hash, salt as long
    /// as the digest), RSA PKCS #1 v1.5, or ECDSA (DER signatures).
    pub const fn scheme(self) -> Scheme {
        use SigningAlgorithm::*;
        match self {
            Sha224RsaPss => Scheme::RsaPss(Hash::Sha224),
            Sha256RsaPss => Scheme::RsaPss(Hash::Sha256),
            Sha384RsaPss => Scheme::RsaPss(Hash::Sha384),
            Sha512RsaPss => Scheme::RsaPss(Hash::Sha512),
            Sha224RsaPkcs1 => Scheme::RsaPkcs1(Hash::Sha224),
            Sha256RsaPkcs1 => Scheme::RsaPkcs1(Hash::Sha256),
            Sha384RsaPkcs1 => Scheme::RsaPkcs1(Hash::Sha384),
            Sha512RsaPkcs1 => Scheme::RsaPkcs1(Hash::Sha512),
            EcdsaSha256 => Scheme::Ecdsa(Hash::Sha256),
            EcdsaSha384 => Scheme::Ecdsa(Hash::Sha384),
            EcdsaSha512 => Scheme::Ecdsa(Hash::Sha512),
        }
    }
}

/// `messageType`: whether `message` is the message or its digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageType {
    /// The message itself (at most 4096 bytes); the default.
    #[default]
    Raw,
    /// A digest made with the signing algorithm's hash.
    Digest,
}

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
    encryption_algorithm: Option<EncryptionAlgorithm>,
    /// `loggingContext`: string → string, checked; kept for the audit log
    /// (OCI writes it into the operation's audit event).
    #[allow(dead_code)]
    logging_context: Option<BTreeMap<String, String>>,
}

/// `EncryptedData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedData {
    ciphertext: String,
    key_id: String,
    key_version_id: String,
    encryption_algorithm: EncryptionAlgorithm,
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
    key_version_id: Option<String>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    /// `loggingContext`: string → string, checked; kept for the audit log
    /// (OCI writes it into the operation's audit event).
    #[allow(dead_code)]
    logging_context: Option<BTreeMap<String, String>>,
}

/// `DecryptedData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptedData {
    plaintext: String,
    plaintext_checksum: String,
    key_id: String,
    key_version_id: String,
    encryption_algorithm: EncryptionAlgorithm,
}

/// `SignDataDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignDataDetails {
    /// Required here; the pipeline's resolver loaded the key it names.
    #[allow(dead_code)]
    key_id: String,
    message: String,
    key_version_id: Option<String>,
    signing_algorithm: SigningAlgorithm,
    #[serde(default)]
    message_type: MessageType,
    /// `loggingContext`: string → string, checked; kept for the audit log
    /// (OCI writes it into the operation's audit event).
    #[allow(dead_code)]
    logging_context: Option<BTreeMap<String, String>>,
}

/// `SignedData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedData {
    key_id: String,
    key_version_id: String,
    signature: String,
    signing_algorithm: SigningAlgorithm,
}

/// `VerifyDataDetails`: `keyVersionId` is required.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyDataDetails {
    /// Required here; the pipeline's resolver loaded the key it names.
    #[allow(dead_code)]
    key_id: String,
    key_version_id: String,
    signature: String,
    message: String,
    signing_algorithm: SigningAlgorithm,
    #[serde(default)]
    message_type: MessageType,
}

/// `VerifiedData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedData {
    is_signature_valid: bool,
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
    /// `loggingContext`: string → string, checked; kept for the audit log
    /// (OCI writes it into the operation's audit event).
    #[allow(dead_code)]
    logging_context: Option<BTreeMap<String, String>>,
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

/// The algorithm an Encrypt/Decrypt uses with a key of `algorithm`: AES
/// keys take `AES_256_GCM` (the default), RSA keys an OAEP variant (which
/// must be named); ECDSA keys do not encrypt. 400 `InvalidParameter` otherwise.
fn encryption_algorithm(
    algorithm: Algorithm,
    given: Option<EncryptionAlgorithm>,
) -> Result<EncryptionAlgorithm, ApiError> {
    use EncryptionAlgorithm::*;
    match (algorithm, given) {
        (Algorithm::Aes, None | Some(Aes256Gcm)) => Ok(Aes256Gcm),
        (Algorithm::Aes, Some(_)) => Err(ApiError::invalid(
            "encryptionAlgorithm must be AES_256_GCM for an AES key.",
        )),
        (Algorithm::Rsa, Some(a @ (RsaOaepSha1 | RsaOaepSha256))) => Ok(a),
        (Algorithm::Rsa, _) => Err(ApiError::invalid(
            "encryptionAlgorithm must be RSA_OAEP_SHA_1 or RSA_OAEP_SHA_256 for an RSA key.",
        )),
        (Algorithm::Ecdsa, _) => Err(ApiError::invalid(
            "An ECDSA key signs and verifies; it cannot encrypt or decrypt.",
        )),
    }
}

const fn oaep(algorithm: EncryptionAlgorithm) -> Oaep {
    match algorithm {
        EncryptionAlgorithm::RsaOaepSha1 => Oaep::Sha1,
        _ => Oaep::Sha256,
    }
}

/// An enum's name on the wire (`SHA_256_RSA_PKCS_PSS`), for messages.
fn wire_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs a private-key operation on the blocking pool (RSA-4096 takes
/// milliseconds; the async workers keep serving).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crypto::Error> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(&anyhow::anyhow!("crypto task: {e}")))?
        .map_err(|e| ApiError::from(Error::from(e)))
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

/// `Encrypt`: `POST /20180608/encrypt`. AES keys: the opaque envelope,
/// with `associatedData`; RSA keys: RSA-OAEP of at most `k - 2·hLen - 2`
/// bytes, no `associatedData` (400 otherwise).
pub async fn encrypt(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: EncryptDataDetails = ctx.json()?;
    let shape = ctx.target.key()?.key_shape;
    let algorithm = encryption_algorithm(shape.algorithm, details.encryption_algorithm)?;
    let aad = associated_data(details.associated_data.as_ref())?;
    let plaintext = KeyBytes::new(
        B64.decode(details.plaintext.trim())
            .map_err(|_| ApiError::invalid("plaintext must be base64."))?,
    );
    let version = usable_version(app, ctx, details.key_version_id).await?;
    let ciphertext = if algorithm == EncryptionAlgorithm::Aes256Gcm {
        let sealed = crypto::seal(&material(app, &version)?, &aad, &plaintext)?;
        crypto::encode_ciphertext(&version.id, &sealed)
    } else {
        no_associated_data(details.associated_data.as_ref())?;
        let max = asymmetric::oaep_max_plaintext(shape.length as usize, oaep(algorithm));
        if plaintext.len() > max {
            return Err(ApiError::invalid(format!(
                "plaintext is {} bytes; {} with this {}-bit key takes at most {max}.",
                plaintext.len(),
                wire_name(&algorithm),
                shape.length * 8
            )));
        }
        let public = public_key_der(&version)?;
        B64.encode(asymmetric::oaep_encrypt(
            &public,
            oaep(algorithm),
            &plaintext,
        )?)
    };
    Reply::json(&EncryptedData {
        ciphertext,
        key_id: version.key_id,
        key_version_id: version.id,
        encryption_algorithm: algorithm,
    })
}

fn no_associated_data(map: Option<&BTreeMap<String, String>>) -> Result<(), ApiError> {
    match map {
        Some(m) if !m.is_empty() => Err(ApiError::invalid(
            "associatedData applies to AES keys only; RSA-OAEP takes none.",
        )),
        _ => Ok(()),
    }
}

fn public_key_der(version: &KeyVersion) -> Result<Vec<u8>, ApiError> {
    version
        .public_key
        .as_deref()
        .and_then(asymmetric::pem_to_der)
        .ok_or_else(|| ApiError::internal(&anyhow::anyhow!("key version without a public key")))
}

/// `Decrypt`: `POST /20180608/decrypt`. AES: the ciphertext names its key
/// version, so it decrypts after rotation; the key version must belong to
/// `keyId`, and `associatedData` must equal Encrypt's (else 400). RSA:
/// standard OAEP ciphertext for `keyVersionId` (default: the current
/// version); one that does not decrypt is 400.
pub async fn decrypt(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: DecryptDataDetails = ctx.json()?;
    let algorithm = encryption_algorithm(
        ctx.target.key()?.key_shape.algorithm,
        details.encryption_algorithm,
    )?;
    let aad = associated_data(details.associated_data.as_ref())?;
    let as_invalid_ciphertext = |e: ApiError| {
        if e.code == crate::error::ErrorCode::InvalidParameter {
            ApiError::from(Error::InvalidCiphertext)
        } else {
            e
        }
    };
    let (version, plaintext) = if algorithm == EncryptionAlgorithm::Aes256Gcm {
        let (version_id, sealed) =
            crypto::decode_ciphertext(&details.ciphertext).map_err(ApiError::from)?;
        let version = usable_version(app, ctx, Some(version_id))
            .await
            .map_err(as_invalid_ciphertext)?;
        let plaintext = crypto::open(&material(app, &version)?, &aad, &sealed)?;
        (version, plaintext)
    } else {
        no_associated_data(details.associated_data.as_ref())?;
        let ciphertext = B64
            .decode(details.ciphertext.trim())
            .map_err(|_| ApiError::from(Error::InvalidCiphertext))?;
        let version = usable_version(app, ctx, details.key_version_id).await?;
        let key = material(app, &version)?;
        let plaintext =
            blocking(move || asymmetric::oaep_decrypt(&key, oaep(algorithm), &ciphertext)).await?;
        (version, plaintext)
    };
    Reply::json(&DecryptedData {
        plaintext: B64.encode(&*plaintext),
        plaintext_checksum: crypto::checksum(&plaintext),
        key_id: version.key_id,
        key_version_id: version.id,
        encryption_algorithm: algorithm,
    })
}

/// The digest Sign/Verify work on: the message hashed with the algorithm's
/// hash (`RAW`, at most 4096 bytes), or the message itself (`DIGEST`, which
/// must be as long as that hash's output). 400 otherwise.
fn digest_of(
    message: &str,
    message_type: MessageType,
    algorithm: SigningAlgorithm,
) -> Result<Vec<u8>, ApiError> {
    let bytes = B64
        .decode(message.trim())
        .map_err(|_| ApiError::invalid("message must be base64."))?;
    let hash = algorithm.scheme().hash();
    match message_type {
        MessageType::Raw if bytes.len() > MAX_RAW_MESSAGE => Err(ApiError::invalid(format!(
            "A RAW message is at most {MAX_RAW_MESSAGE} bytes; sign a larger one by its digest (messageType DIGEST)."
        ))),
        MessageType::Raw => Ok(hash.digest(&bytes)),
        MessageType::Digest if bytes.len() != hash.output_len() => Err(ApiError::invalid(format!(
            "A DIGEST message for {} is {} bytes, not {}.",
            wire_name(&algorithm),
            hash.output_len(),
            bytes.len()
        ))),
        MessageType::Digest => Ok(bytes),
    }
}

/// Checks that `algorithm` fits the key: RSA schemes for RSA keys, ECDSA
/// for ECDSA keys; AES keys do not sign (400 `InvalidParameter`).
fn signing_key_fits(algorithm: Algorithm, signing: SigningAlgorithm) -> Result<(), ApiError> {
    match (algorithm, signing.scheme()) {
        (Algorithm::Rsa, Scheme::RsaPkcs1(_) | Scheme::RsaPss(_))
        | (Algorithm::Ecdsa, Scheme::Ecdsa(_)) => Ok(()),
        (Algorithm::Aes, _) => Err(ApiError::invalid(
            "An AES key cannot sign or verify; use an RSA or ECDSA key.",
        )),
        (Algorithm::Rsa, _) => Err(ApiError::invalid(
            "signingAlgorithm must be an RSA algorithm (SHA_*_RSA_PKCS_PSS or SHA_*_RSA_PKCS1_V1_5) for an RSA key.",
        )),
        (Algorithm::Ecdsa, _) => Err(ApiError::invalid(
            "signingAlgorithm must be ECDSA_SHA_256, ECDSA_SHA_384 or ECDSA_SHA_512 for an ECDSA key.",
        )),
    }
}

/// What Sign and Verify work on: the digest of the message, once the
/// algorithm is known to fit the key ([`signing_key_fits`], [`digest_of`]).
fn signing_input(
    ctx: &Ctx<'_>,
    message: &str,
    message_type: MessageType,
    algorithm: SigningAlgorithm,
) -> Result<Vec<u8>, ApiError> {
    signing_key_fits(ctx.target.key()?.key_shape.algorithm, algorithm)?;
    digest_of(message, message_type, algorithm)
}

/// `Sign`: `POST /20180608/sign`, with `keyVersionId` or the key's current
/// version. RSA signatures are as long as the modulus; ECDSA signatures are
/// DER (`Ecdsa-Sig-Value`), both base64.
pub async fn sign(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: SignDataDetails = ctx.json()?;
    let digest = signing_input(
        ctx,
        &details.message,
        details.message_type,
        details.signing_algorithm,
    )?;
    let version = usable_version(app, ctx, details.key_version_id).await?;
    let key = material(app, &version)?;
    let scheme = details.signing_algorithm.scheme();
    let signature = blocking(move || evp::sign_digest(&key, scheme, &digest)).await?;
    Reply::json(&SignedData {
        key_id: version.key_id,
        key_version_id: version.id,
        signature: B64.encode(signature),
        signing_algorithm: details.signing_algorithm,
    })
}

/// `Verify`: `POST /20180608/verify` with the given key version; a
/// signature that does not verify (or is not even a signature) is
/// `isSignatureValid: false`, not an error.
pub async fn verify(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: VerifyDataDetails = ctx.json()?;
    let digest = signing_input(
        ctx,
        &details.message,
        details.message_type,
        details.signing_algorithm,
    )?;
    let signature = B64
        .decode(details.signature.trim())
        .map_err(|_| ApiError::invalid("signature must be base64."))?;
    let version = usable_version(app, ctx, Some(details.key_version_id)).await?;
    let key = material(app, &version)?;
    let scheme = details.signing_algorithm.scheme();
    let valid = blocking(move || evp::verify_digest(&key, scheme, &digest, &signature)).await?;
    Reply::json(&VerifiedData {
        is_signature_valid: valid,
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
    if shape.algorithm != Algorithm::Aes {
        return Err(ApiError::invalid(
            "keyShape.algorithm must be AES: a data encryption key is symmetric.",
        ));
    }
    if ctx.target.key()?.key_shape.algorithm != Algorithm::Aes {
        return Err(ApiError::invalid(
            "GenerateDataEncryptionKey needs an AES master encryption key.",
        ));
    }
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

/// `ExportKeyDetails.algorithm` / `ExportedKeyData.algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportAlgorithm {
    /// RSA-OAEP (SHA-256) of the material itself: AES keys (and material
    /// short enough for one OAEP block).
    #[serde(rename = "RSA_OAEP_SHA256")]
    RsaOaepSha256,
    /// A temporary AES-256 key, RSA-OAEP wrapped, then the material under it
    /// with AES key wrap with padding (RFC 5649): any key.
    #[serde(rename = "RSA_OAEP_AES_SHA256")]
    RsaOaepAesSha256,
}

/// `ExportKeyDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportKeyDetails {
    /// Required here; the pipeline's resolver loaded the key it names.
    #[allow(dead_code)]
    key_id: String,
    key_version_id: Option<String>,
    algorithm: ExportAlgorithm,
    public_key: String,
    /// `loggingContext`: string → string, checked; kept for the audit log
    /// (OCI writes it into the operation's audit event).
    #[allow(dead_code)]
    logging_context: Option<BTreeMap<String, String>>,
}

/// `ExportedKeyData`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedKeyData {
    key_version_id: String,
    key_id: String,
    #[serde(serialize_with = "super::common::ser_time")]
    time_created: time::OffsetDateTime,
    vault_id: String,
    encrypted_key: String,
    algorithm: ExportAlgorithm,
}

/// `ExportKey`: `POST /20180608/exportKey`: the material of `keyVersionId`
/// (default: the current version) wrapped to the caller's RSA public key
/// (PEM, 2048 bits or more). Only `SOFTWARE` keys export; an `HSM` key's
/// material never leaves the HSM (400 `InvalidParameter`, as OCI refuses it).
/// AES material is the raw key bytes; RSA and ECDSA material is the PKCS #8
/// private key, which takes `RSA_OAEP_AES_SHA256`.
pub async fn export_key(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ExportKeyDetails = ctx.json()?;
    let key = ctx.target.key()?;
    if key.protection_mode != keys::ProtectionMode::Software {
        return Err(ApiError::invalid(format!(
            "Only keys with protectionMode SOFTWARE can be exported; this key's is {}.",
            key.protection_mode.as_str()
        )));
    }
    let public = asymmetric::pem_to_der(&details.public_key)
        .filter(|der| asymmetric::rsa_public_modulus_bytes(der).is_some_and(|n| n >= 256))
        .ok_or_else(|| {
            ApiError::invalid(
                "publicKey must be an RSA public key (PEM, SubjectPublicKeyInfo) of 2048 bits or more.",
            )
        })?;
    let version = usable_version(app, ctx, details.key_version_id).await?;
    let material = material(app, &version)?;
    let algorithm = details.algorithm;
    let encrypted = blocking(move || match algorithm {
        ExportAlgorithm::RsaOaepSha256 => asymmetric::oaep_encrypt(&public, Oaep::Sha256, &material),
        ExportAlgorithm::RsaOaepAesSha256 => asymmetric::wrap_oaep_aes(&public, &material),
    })
    .await
    .map_err(|e| {
        if algorithm == ExportAlgorithm::RsaOaepSha256 {
            ApiError::invalid(
                "This key's material is too long for RSA_OAEP_SHA256 with that public key; use RSA_OAEP_AES_SHA256.",
            )
        } else {
            e
        }
    })?;
    Reply::json(&ExportedKeyData {
        key_version_id: version.id,
        key_id: version.key_id,
        time_created: version.time_created,
        vault_id: version.vault_id,
        encrypted_key: B64.encode(encrypted),
        algorithm,
    })
}
