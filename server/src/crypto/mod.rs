//! Real cryptography: AES-GCM for everything symmetric, RSA API-key
//! verification ([`public_key`]), through aws-lc-rs. Imports nothing of ours.
//!
//! - **Sealing at rest.** Key material is stored only sealed under the
//!   emulator root key (AES-256-GCM, the key version OCID as associated data,
//!   so a sealed blob cannot be moved to another key version).
//! - **Encrypt/Decrypt ciphertext** (the `ciphertext` of `EncryptedData`) is
//!   base64 of `0x01 | len(kv) | kv | nonce(12) | ct+tag`, where `kv` is the
//!   key version OCID: it names its key version, so it still decrypts after
//!   `CreateKeyVersion` (OCI documents the same property; its byte format is
//!   its own). The associated data is the request's `associatedData` map in
//!   canonical JSON (keys sorted).
//! - **Secret contents** are envelope-encrypted: a fresh 256-bit data key per
//!   secret version encrypts the content; the data key is wrapped by the
//!   master encryption key's current version.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use aws_lc_rs::aead::{
    Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM, NONCE_LEN,
};
use base64::Engine as _;
use zeroize::Zeroizing;

pub mod asymmetric;
pub mod evp;
pub mod public_key;

pub use public_key::{decode_pem, fingerprint, PublicKey};

/// Why a crypto step failed. The domain maps these to its own errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ciphertext that does not open: corrupt, another key, other associated data.
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// A key of the wrong size or a failing primitive; never carries key bytes.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Standard base64 (with padding), the encoding of every OCI binary field.
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Secret key bytes that are wiped when dropped and never printed.
pub type KeyBytes = Zeroizing<Vec<u8>>;

/// `n` random bytes from the operating system's CSPRNG (`getrandom`).
///
/// Not aws-lc's DRBG: seeding that costs about 40 ms on first use, which
/// would be most of the emulator's start-up time.
pub fn random_bytes(n: usize) -> KeyBytes {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut bytes).expect("the system random source failed");
    bytes
}

/// 16 random bytes for an identifier (a request id, an audit event id),
/// never for key material: from a per-thread ChaCha20 generator seeded by
/// [`random_bytes`], so the ids every request mints cost no `getrandom`
/// system call each (two per request were 2 % of a signed read's CPU).
pub fn id_bytes() -> [u8; 16] {
    use chacha20::rand_core::{Rng as _, SeedableRng as _};
    thread_local! {
        static IDS: std::cell::RefCell<chacha20::ChaCha20Rng> = std::cell::RefCell::new({
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&random_bytes(32));
            chacha20::ChaCha20Rng::from_seed(seed)
        });
    }
    let mut id = [0u8; 16];
    IDS.with(|rng| rng.borrow_mut().fill_bytes(&mut id));
    id
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey, Error> {
    let algorithm = match key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        n => {
            return Err(Error::Internal(anyhow::anyhow!(
                "no AES-GCM for a {n}-byte key"
            )))
        }
    };
    let unbound = UnboundKey::new(algorithm, key)
        .map_err(|_| Error::Internal(anyhow::anyhow!("bad AES key")))?;
    Ok(LessSafeKey::new(unbound))
}

/// AES-GCM encryption with a random nonce; returns `nonce | ciphertext+tag`.
/// `key` is 16, 24 or 32 bytes.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let key = aead_key(key)?;
    let nonce_bytes = random_bytes(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&nonce_bytes)
        .map_err(|_| Error::Internal(anyhow::anyhow!("nonce")))?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(&nonce_bytes);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut body)
        .map_err(|_| Error::Internal(anyhow::anyhow!("AES-GCM seal failed")))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens what [`seal`] produced; [`Error::InvalidCiphertext`] when the tag
/// does not verify (wrong key, wrong associated data, corrupted bytes).
pub fn open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<KeyBytes, Error> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(Error::InvalidCiphertext);
    }
    let key = aead_key(key)?;
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::InvalidCiphertext)?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| Error::InvalidCiphertext)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

const CHECK_AAD: &[u8] = b"oci-vault-emulator root key check";
/// Associated-data prefix of backup files: nothing else sealed under the
/// root key (material, the check value) opens as a backup, or the reverse.
const BACKUP_AAD: &[u8] = b"oci-vault-emulator backup\0";
const CHECK_TEXT: &[u8] = b"sealed under this root key";

/// The emulator root key: 32 bytes that seal all key material at rest.
pub struct RootKey(KeyBytes);

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(..)")
    }
}

impl RootKey {
    /// From base64 of exactly 32 bytes (the `--root-key` flag).
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = Zeroizing::new(
            B64.decode(text.trim())
                .context("--root-key is not valid base64")?,
        );
        anyhow::ensure!(
            bytes.len() == 32,
            "--root-key must decode to 32 bytes, got {}",
            bytes.len()
        );
        Ok(Self(bytes))
    }

    /// A fresh random root key.
    pub fn generate() -> Self {
        Self(random_bytes(32))
    }

    /// The key in base64, for writing it to the data dir (mode 0600).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(&*self.0))
    }

    /// Seals key material for storage, bound to `key_version_id`.
    pub fn seal_material(&self, key_version_id: &str, material: &[u8]) -> Result<Vec<u8>, Error> {
        seal(&self.0, key_version_id.as_bytes(), material)
    }

    /// Seals a backup file's contents under the root key (AES-256-GCM);
    /// `aad` is the file's clear header, so neither part can be changed
    /// without the file failing to open. Only an emulator with the same root
    /// key restores it.
    pub fn seal_backup(&self, aad: &[u8], contents: &[u8]) -> Result<Vec<u8>, Error> {
        seal(&self.0, &[BACKUP_AAD, aad].concat(), contents)
    }

    /// Opens what [`RootKey::seal_backup`] produced; [`Error::InvalidCiphertext`]
    /// for a damaged file, another header or another root key.
    pub fn open_backup(&self, aad: &[u8], sealed: &[u8]) -> Result<KeyBytes, Error> {
        open(&self.0, &[BACKUP_AAD, aad].concat(), sealed)
    }

    /// A value sealed under this key that only this key opens; stored with
    /// the state so a start with another root key is refused up front.
    pub fn check_value(&self) -> Result<Vec<u8>, Error> {
        seal(&self.0, CHECK_AAD, CHECK_TEXT)
    }

    /// Whether `sealed` is a [`RootKey::check_value`] of this key.
    pub fn opens_check_value(&self, sealed: &[u8]) -> bool {
        open(&self.0, CHECK_AAD, sealed).is_ok_and(|t| &t[..] == CHECK_TEXT)
    }

    /// Unseals what [`RootKey::seal_material`] produced.
    pub fn unseal_material(&self, key_version_id: &str, sealed: &[u8]) -> Result<KeyBytes, Error> {
        open(&self.0, key_version_id.as_bytes(), sealed).map_err(|e| match e {
            Error::InvalidCiphertext => Error::Internal(anyhow::anyhow!(
                "key material of {key_version_id} does not unseal: was the state made with another root key?"
            )),
            other => other,
        })
    }
}

/// The associated data of Encrypt/Decrypt/GenerateDataEncryptionKey: the
/// `associatedData` map as canonical JSON (sorted keys); empty when absent.
pub fn associated_data(map: Option<&BTreeMap<String, String>>) -> Vec<u8> {
    match map {
        Some(m) if !m.is_empty() => serde_json::to_vec(m).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The root key plus a cache of unsealed key material, so unsealing happens
/// once per key version, not once per request. The lock is a std `RwLock`
/// held only for a map lookup or insert, never across an `.await`.
pub struct Keyring {
    /// Seals and unseals material at rest.
    root: RootKey,
    /// Key version OCID → its material, unsealed.
    cache: RwLock<HashMap<String, Arc<KeyBytes>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

impl Keyring {
    /// A keyring over `root` with an empty cache.
    pub fn new(root: RootKey) -> Self {
        Self {
            root,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The root key.
    pub fn root(&self) -> &RootKey {
        &self.root
    }

    /// Drops every unsealed key from the cache (after a reset or an import,
    /// when key versions may have been replaced).
    pub fn forget(&self) {
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The material of key version `id`, unsealing `sealed` on first use.
    pub fn material(
        &self,
        id: &str,
        sealed: impl FnOnce() -> Result<Vec<u8>, Error>,
    ) -> Result<Arc<KeyBytes>, Error> {
        if let Some(found) = self.cache.read().unwrap_or_else(|p| p.into_inner()).get(id) {
            return Ok(found.clone());
        }
        let material = Arc::new(self.root.unseal_material(id, &sealed()?)?);
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_owned(), material.clone());
        Ok(material)
    }
}

const FORMAT_V1: u8 = 1;

/// Builds the base64 `ciphertext` of `EncryptedData` from the key version
/// OCID and the sealed bytes.
pub fn encode_ciphertext(key_version_id: &str, sealed: &[u8]) -> String {
    let kv = key_version_id.as_bytes();
    let mut out = Vec::with_capacity(2 + kv.len() + sealed.len());
    out.push(FORMAT_V1);
    out.push(kv.len() as u8);
    out.extend_from_slice(kv);
    out.extend_from_slice(sealed);
    B64.encode(out)
}

/// Splits a `ciphertext` into (key version OCID, sealed bytes);
/// [`Error::InvalidCiphertext`] for anything this emulator did not produce.
pub fn decode_ciphertext(text: &str) -> Result<(String, Vec<u8>), Error> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| Error::InvalidCiphertext)?;
    let (&[version, len], rest) = bytes
        .split_first_chunk::<2>()
        .ok_or(Error::InvalidCiphertext)?;
    if version != FORMAT_V1 || rest.len() < len as usize {
        return Err(Error::InvalidCiphertext);
    }
    let (kv, sealed) = rest.split_at(len as usize);
    let kv = String::from_utf8(kv.to_vec()).map_err(|_| Error::InvalidCiphertext)?;
    Ok((kv, sealed.to_vec()))
}

/// A short opaque token that changes whenever any of `parts` does: hex of
/// the first 16 bytes of SHA-256 over the parts (each length-prefixed).
/// Used as the etag of resources whose etag is derived from their state.
pub fn digest_token(parts: &[&[u8]]) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    context.finish().as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Base64 of the MD5 of `bytes`: a `content-md5` header value (RFC 1864),
/// as RestoreVaultFromFile / RestoreKeyFromFile check and answer in
/// `opc-content-md5`.
pub fn content_md5(bytes: &[u8]) -> String {
    use md5::Digest as _;
    B64.encode(md5::Md5::digest(bytes))
}

/// `plaintextChecksum` of `DecryptedData`/`GeneratedKey`: CRC-32 of the
/// plaintext bytes in decimal (OCI does not document its algorithm; this is
/// the common reading, see reference §14).
pub fn checksum(plaintext: &[u8]) -> String {
    crc32fast::hash(plaintext).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wrong_associated_data_or_key_fails_to_open() {
        let key = random_bytes(32);
        let sealed = seal(&key, b"a", b"hello").unwrap();
        assert_eq!(&*open(&key, b"a", &sealed).unwrap(), b"hello");
        assert!(matches!(
            open(&key, b"b", &sealed),
            Err(Error::InvalidCiphertext)
        ));
        assert!(matches!(
            open(&random_bytes(32), b"a", &sealed),
            Err(Error::InvalidCiphertext)
        ));
    }

    /// Ids differ within a thread and across threads (each thread's
    /// generator has its own seed).
    #[test]
    fn id_bytes_do_not_repeat() {
        let here: std::collections::HashSet<[u8; 16]> = (0..1000).map(|_| id_bytes()).collect();
        assert_eq!(here.len(), 1000);
        let there = std::thread::spawn(id_bytes).join().unwrap();
        assert!(!here.contains(&there));
        assert_ne!(there, std::thread::spawn(id_bytes).join().unwrap());
    }

    #[test]
    fn ciphertext_names_its_key_version() {
        let text = encode_ciphertext(
            "ocid1.keyversion.oc1.iad.x",
            b"0123456789abcdefghijklmnopqrstuvwxyz",
        );
        let (kv, sealed) = decode_ciphertext(&text).unwrap();
        assert_eq!(kv, "ocid1.keyversion.oc1.iad.x");
        assert_eq!(sealed, b"0123456789abcdefghijklmnopqrstuvwxyz");
        assert!(matches!(
            decode_ciphertext("not base64!"),
            Err(Error::InvalidCiphertext)
        ));
        assert!(matches!(
            decode_ciphertext(&B64.encode([2u8, 0])),
            Err(Error::InvalidCiphertext)
        ));
        assert!(matches!(
            decode_ciphertext(&B64.encode([1u8, 9, 1])),
            Err(Error::InvalidCiphertext)
        ));
    }

    #[test]
    fn sealed_material_is_bound_to_its_key_version() {
        let root = RootKey::generate();
        let sealed = root.seal_material("kv1", b"material").unwrap();
        assert_eq!(&*root.unseal_material("kv1", &sealed).unwrap(), b"material");
        assert!(root.unseal_material("kv2", &sealed).is_err());
        assert!(RootKey::generate().unseal_material("kv1", &sealed).is_err());
    }

    #[test]
    fn a_backup_opens_only_with_its_header_and_root_key() {
        let root = RootKey::generate();
        let sealed = root.seal_backup(b"header", b"contents").unwrap();
        assert_eq!(&*root.open_backup(b"header", &sealed).unwrap(), b"contents");
        assert!(root.open_backup(b"other", &sealed).is_err());
        assert!(RootKey::generate().open_backup(b"header", &sealed).is_err());
        let material = root.seal_material("header", b"contents").unwrap();
        assert!(root.open_backup(b"header", &material).is_err());
    }

    #[test]
    fn root_key_must_be_32_bytes_of_base64() {
        assert!(RootKey::from_base64(&B64.encode([7u8; 32])).is_ok());
        assert!(RootKey::from_base64(&B64.encode([7u8; 16])).is_err());
        assert!(RootKey::from_base64("***").is_err());
    }

    #[test]
    fn content_md5_is_base64_of_the_md5() {
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }

    #[test]
    fn checksum_is_crc32_decimal() {
        assert_eq!(checksum(b"123456789"), "3421780262");
    }

    proptest! {
        #[test]
        fn envelope_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
                                aad in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,16}", 0..4),
                                key_len in prop_oneof![Just(16usize), Just(24), Just(32)]) {
            let key = random_bytes(key_len);
            let aad = associated_data(Some(&aad));
            let text = encode_ciphertext("kv", &seal(&key, &aad, &plaintext).unwrap());
            let (kv, sealed) = decode_ciphertext(&text).unwrap();
            prop_assert_eq!(kv, "kv");
            prop_assert_eq!(&*open(&key, &aad, &sealed).unwrap(), &plaintext[..]);
        }

        #[test]
        fn any_flipped_byte_is_refused(plaintext in proptest::collection::vec(any::<u8>(), 1..256), at in any::<prop::sample::Index>()) {
            let key = random_bytes(32);
            let mut sealed = seal(&key, b"", &plaintext).unwrap();
            let i = at.index(sealed.len());
            sealed[i] ^= 0x01;
            prop_assert!(open(&key, b"", &sealed).is_err());
        }
    }
}
