//! Asymmetric master keys: RSA (2048/3072/4096-bit) and ECDSA (NIST P-256,
//! P-384, P-521) key pairs, their public keys, RSA-OAEP, and the
//! `RSA_OAEP_AES_SHA256` wrapping OCI uses for `ImportKey` and `ExportKey`.
//!
//! Private keys travel as unencrypted PKCS #8 DER ([`KeyBytes`], wiped on
//! drop) and are stored only sealed under the root key, like AES material.
//! Shapes follow the KMS `KeyShape` model (RSA `length` 256/384/512 bytes;
//! ECDSA 32/48/66 bytes with `curveId`); wrapping follows Oracle's "Importing
//! Keys and Key Versions" (RSA-OAEP with SHA-256 and MGF1-SHA-256; for
//! `RSA_OAEP_AES_SHA256` a temporary 256-bit AES key wrapped that way,
//! followed by the material wrapped with AES key wrap with padding, RFC 5649).

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_256};
use aws_lc_rs::rsa::{
    self, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING,
    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
};
use base64::Engine as _;
use zeroize::Zeroizing;

use super::{random_bytes, Error, KeyBytes, B64};

/// A NIST curve of the KMS `KeyShape.curveId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// `NIST_P256` (32-byte keys).
    P256,
    /// `NIST_P384` (48-byte keys).
    P384,
    /// `NIST_P521` (66-byte keys).
    P521,
}

impl Curve {
    fn algorithm(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }
}

/// The kind of an asymmetric key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// RSA with a modulus of this many bytes (256, 384 or 512).
    Rsa(usize),
    /// ECDSA on this curve.
    Ecdsa(Curve),
}

fn internal(what: &str) -> Error {
    Error::Internal(anyhow::anyhow!("{what} failed"))
}

/// A new key pair of `kind`, as PKCS #8 DER.
///
/// # Errors
/// [`Error::Internal`] for an RSA size other than 256/384/512 bytes, or a
/// failing generator.
pub fn generate(kind: Kind) -> Result<KeyBytes, Error> {
    let der = match kind {
        Kind::Rsa(bytes) => {
            let size = match bytes {
                256 => rsa::KeySize::Rsa2048,
                384 => rsa::KeySize::Rsa3072,
                512 => rsa::KeySize::Rsa4096,
                _ => return Err(internal("an RSA key of this size")),
            };
            let pair = rsa::KeyPair::generate(size).map_err(|_| internal("RSA key generation"))?;
            let der: Pkcs8V1Der<'static> =
                pair.as_der().map_err(|_| internal("RSA key encoding"))?;
            der.as_ref().to_vec()
        }
        Kind::Ecdsa(curve) => {
            let pair = EcdsaKeyPair::generate(curve.algorithm())
                .map_err(|_| internal("EC key generation"))?;
            let der = pair.to_pkcs8v1().map_err(|_| internal("EC key encoding"))?;
            der.as_ref().to_vec()
        }
    };
    Ok(Zeroizing::new(der))
}

/// Checks that `pkcs8` is a private key of `kind` (the right modulus length
/// or curve) — for key material a caller imports.
///
/// # Errors
/// [`Error::InvalidCiphertext`] when it is not; the message never carries
/// the material.
pub fn check_private(kind: Kind, pkcs8: &[u8]) -> Result<(), Error> {
    let fits = match kind {
        Kind::Rsa(bytes) => rsa::KeyPair::from_pkcs8(pkcs8)
            .map(|p| p.public_modulus_len() == bytes)
            .unwrap_or(false),
        Kind::Ecdsa(curve) => EcdsaKeyPair::from_pkcs8(curve.algorithm(), pkcs8).is_ok(),
    };
    if fits {
        Ok(())
    } else {
        Err(Error::InvalidCiphertext)
    }
}

/// The public key (X.509 `SubjectPublicKeyInfo` DER) of the private key
/// `pkcs8` of `kind`.
///
/// # Errors
/// [`Error::Internal`] when `pkcs8` is not a key of `kind`.
pub fn public_key_der(kind: Kind, pkcs8: &[u8]) -> Result<Vec<u8>, Error> {
    match kind {
        Kind::Rsa(_) => {
            let pair = rsa::KeyPair::from_pkcs8(pkcs8).map_err(|_| internal("RSA key parsing"))?;
            let der = pair
                .public_key()
                .as_der()
                .map_err(|_| internal("RSA public key encoding"))?;
            Ok(der.as_ref().to_vec())
        }
        Kind::Ecdsa(curve) => {
            let pair = EcdsaKeyPair::from_pkcs8(curve.algorithm(), pkcs8)
                .map_err(|_| internal("EC key parsing"))?;
            let der = pair
                .public_key()
                .as_der()
                .map_err(|_| internal("EC public key encoding"))?;
            Ok(der.as_ref().to_vec())
        }
    }
}

/// The modulus length in bytes of an RSA `SubjectPublicKeyInfo`; `None`
/// when `spki_der` is not an RSA public key.
pub fn rsa_public_modulus_bytes(spki_der: &[u8]) -> Option<usize> {
    PublicEncryptingKey::from_der(spki_der)
        .ok()
        .map(|k| k.key_size_bytes())
}

/// `SubjectPublicKeyInfo` DER as PEM (`-----BEGIN PUBLIC KEY-----`, lines of
/// 64 characters), the form of `KeyVersion.publicKey` and `WrappingKey.publicKey`.
pub fn pem(der: &[u8]) -> String {
    let body = B64.encode(der);
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----");
    out
}

/// A PKCS #8 private key as PEM (`-----BEGIN PRIVATE KEY-----`, lines of 64
/// characters), wiped when dropped. OpenSSH reads this form
/// (`ssh-keygen -y -f key.pem`).
pub fn private_pem(pkcs8: &[u8]) -> Zeroizing<String> {
    let body = Zeroizing::new(B64.encode(pkcs8));
    let mut out = Zeroizing::new(String::with_capacity(body.len() + body.len() / 64 + 64));
    out.push_str("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----");
    out
}

/// The DER inside a `PUBLIC KEY` PEM; `None` when it is not one.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact).ok()
}

/// The OAEP variants OCI names (`RSA_OAEP_SHA_1`, `RSA_OAEP_SHA_256`): the
/// same hash for the label and for MGF1, empty label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oaep {
    /// SHA-1 (`RSA_OAEP_SHA_1`).
    Sha1,
    /// SHA-256 (`RSA_OAEP_SHA_256`, and the wrapping of imports/exports).
    Sha256,
}

impl Oaep {
    fn algorithm(self) -> &'static OaepAlgorithm {
        match self {
            Oaep::Sha1 => &OAEP_SHA1_MGF1SHA1,
            Oaep::Sha256 => &OAEP_SHA256_MGF1SHA256,
        }
    }
}

/// The longest plaintext RSA-OAEP takes with a modulus of `modulus_bytes`:
/// `k - 2·hLen - 2` (RFC 8017 §7.1.1).
pub const fn oaep_max_plaintext(modulus_bytes: usize, oaep: Oaep) -> usize {
    let h = match oaep {
        Oaep::Sha1 => 20,
        Oaep::Sha256 => 32,
    };
    modulus_bytes.saturating_sub(2 * h + 2)
}

/// RSA-OAEP encryption of `plaintext` to the public key `spki_der`.
///
/// # Errors
/// [`Error::Internal`] when the key is not an RSA public key or the
/// plaintext is too long for it.
pub fn oaep_encrypt(spki_der: &[u8], oaep: Oaep, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let public = PublicEncryptingKey::from_der(spki_der)
        .map_err(|_| internal("reading the RSA public key"))?;
    let key = OaepPublicEncryptingKey::new(public).map_err(|_| internal("RSA-OAEP setup"))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep.algorithm(), plaintext, &mut out, None)
        .map_err(|_| internal("RSA-OAEP encryption"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// RSA-OAEP decryption with the private key `pkcs8`.
///
/// # Errors
/// [`Error::InvalidCiphertext`] when the ciphertext does not decrypt under
/// this key and variant; [`Error::Internal`] when `pkcs8` is not RSA.
pub fn oaep_decrypt(pkcs8: &[u8], oaep: Oaep, ciphertext: &[u8]) -> Result<KeyBytes, Error> {
    let private =
        PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| internal("reading the RSA key"))?;
    let key = OaepPrivateDecryptingKey::new(private).map_err(|_| internal("RSA-OAEP setup"))?;
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(oaep.algorithm(), ciphertext, &mut out, None)
        .map_err(|_| Error::InvalidCiphertext)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// `RSA_OAEP_AES_SHA256`: a fresh 256-bit AES key, RSA-OAEP(SHA-256)
/// encrypted to `spki_der`, followed by `material` wrapped under that AES
/// key with AES key wrap with padding (RFC 5649).
///
/// # Errors
/// [`Error::Internal`] when the public key is not RSA or wrapping fails.
pub fn wrap_oaep_aes(spki_der: &[u8], material: &[u8]) -> Result<Vec<u8>, Error> {
    let temporary = random_bytes(32);
    let mut out = oaep_encrypt(spki_der, Oaep::Sha256, &temporary)?;
    let kek = AesKek::new(&AES_256, &temporary).map_err(|_| internal("AES key wrap setup"))?;
    let mut wrapped = vec![0u8; material.len() + 15];
    let len = kek
        .wrap_with_padding(material, &mut wrapped)
        .map_err(|_| internal("AES key wrap"))?
        .len();
    out.extend_from_slice(&wrapped[..len]);
    Ok(out)
}

/// Opens [`wrap_oaep_aes`]'s output with the RSA private key `pkcs8` whose
/// modulus is `modulus_bytes` long.
///
/// # Errors
/// [`Error::InvalidCiphertext`] when it does not open.
pub fn unwrap_oaep_aes(
    pkcs8: &[u8],
    modulus_bytes: usize,
    wrapped: &[u8],
) -> Result<KeyBytes, Error> {
    if wrapped.len() <= modulus_bytes {
        return Err(Error::InvalidCiphertext);
    }
    let (head, tail) = wrapped.split_at(modulus_bytes);
    let temporary = oaep_decrypt(pkcs8, Oaep::Sha256, head)?;
    let kek = AesKek::new(&AES_256, &temporary).map_err(|_| Error::InvalidCiphertext)?;
    let mut out = Zeroizing::new(vec![0u8; tail.len()]);
    let len = kek
        .unwrap_with_padding(tail, &mut out)
        .map_err(|_| Error::InvalidCiphertext)?
        .len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::evp::{sign_digest, verify_digest, Hash, Scheme};
    use super::*;

    #[test]
    fn every_scheme_signs_and_verifies_and_a_flipped_bit_fails() {
        let rsa = generate(Kind::Rsa(256)).unwrap();
        let ec = [Curve::P256, Curve::P384, Curve::P521].map(|c| generate(Kind::Ecdsa(c)).unwrap());
        let hashes = [Hash::Sha224, Hash::Sha256, Hash::Sha384, Hash::Sha512];
        let mut cases: Vec<(&[u8], Scheme)> = Vec::new();
        for h in hashes {
            cases.push((&rsa, Scheme::RsaPkcs1(h)));
            cases.push((&rsa, Scheme::RsaPss(h)));
        }
        for key in &ec {
            for h in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
                cases.push((key, Scheme::Ecdsa(h)));
            }
        }
        for (key, scheme) in cases {
            let digest = scheme.hash().digest(b"message");
            let mut signature = sign_digest(key, scheme, &digest).unwrap();
            assert!(
                verify_digest(key, scheme, &digest, &signature).unwrap(),
                "{scheme:?}"
            );
            let last = signature.len() - 1;
            signature[last] ^= 1;
            assert!(
                !verify_digest(key, scheme, &digest, &signature).unwrap(),
                "{scheme:?}"
            );
        }
    }

    /// One key per kind for the property tests (RSA generation is slow).
    fn keys() -> &'static [(Kind, KeyBytes)] {
        static KEYS: std::sync::OnceLock<Vec<(Kind, KeyBytes)>> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| {
            [
                Kind::Rsa(256),
                Kind::Ecdsa(Curve::P256),
                Kind::Ecdsa(Curve::P384),
                Kind::Ecdsa(Curve::P521),
            ]
            .into_iter()
            .map(|k| (k, generate(k).unwrap()))
            .collect()
        })
    }

    fn schemes(kind: Kind) -> Vec<Scheme> {
        let all = [Hash::Sha224, Hash::Sha256, Hash::Sha384, Hash::Sha512];
        match kind {
            Kind::Rsa(_) => all
                .iter()
                .flat_map(|&h| [Scheme::RsaPkcs1(h), Scheme::RsaPss(h)])
                .collect(),
            Kind::Ecdsa(_) => all[1..].iter().map(|&h| Scheme::Ecdsa(h)).collect(),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Sign → verify is true for every key kind and scheme, and any one
        /// flipped bit of the signature or of the message makes it false.
        #[test]
        fn sign_verify_and_any_flipped_bit(
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            key_index in 0usize..4,
            scheme_index in 0usize..8,
            bit in proptest::prelude::any::<usize>(),
            flip_message in proptest::prelude::any::<bool>(),
        ) {
            let (kind, key) = &keys()[key_index];
            let schemes = schemes(*kind);
            let scheme = schemes[scheme_index % schemes.len()];
            let digest = scheme.hash().digest(&message);
            let signature = sign_digest(key, scheme, &digest).unwrap();
            proptest::prop_assert!(verify_digest(key, scheme, &digest, &signature).unwrap());
            let (mut sig, mut msg) = (signature.clone(), message.clone());
            if flip_message && !msg.is_empty() {
                let at = bit % (msg.len() * 8);
                msg[at / 8] ^= 1 << (at % 8);
            } else {
                let at = bit % (sig.len() * 8);
                sig[at / 8] ^= 1 << (at % 8);
            }
            let digest = scheme.hash().digest(&msg);
            proptest::prop_assert!(!verify_digest(key, scheme, &digest, &sig).unwrap());
        }

        /// Material wrapped with `RSA_OAEP_AES_SHA256` opens to the same bytes.
        #[test]
        fn oaep_aes_wrapping_round_trips(material in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..1300)) {
            let (kind, key) = &keys()[0];
            let public = public_key_der(*kind, key).unwrap();
            let wrapped = wrap_oaep_aes(&public, &material).unwrap();
            proptest::prop_assert_eq!(&*unwrap_oaep_aes(key, 256, &wrapped).unwrap(), &material[..]);
        }
    }

    #[test]
    fn a_digest_of_the_wrong_length_is_refused() {
        let key = generate(Kind::Ecdsa(Curve::P256)).unwrap();
        assert!(sign_digest(&key, Scheme::Ecdsa(Hash::Sha256), &[0; 20]).is_err());
    }

    #[test]
    fn oaep_round_trips_and_refuses_another_key() {
        let key = generate(Kind::Rsa(256)).unwrap();
        let other = generate(Kind::Rsa(256)).unwrap();
        let public = public_key_der(Kind::Rsa(256), &key).unwrap();
        for oaep in [Oaep::Sha1, Oaep::Sha256] {
            let ct = oaep_encrypt(&public, oaep, b"plaintext").unwrap();
            assert_eq!(&*oaep_decrypt(&key, oaep, &ct).unwrap(), b"plaintext");
            assert!(matches!(
                oaep_decrypt(&other, oaep, &ct),
                Err(Error::InvalidCiphertext)
            ));
        }
        let wrapped = wrap_oaep_aes(&public, &[7u8; 24]).unwrap();
        assert_eq!(&*unwrap_oaep_aes(&key, 256, &wrapped).unwrap(), &[7u8; 24]);
    }

    #[test]
    fn pem_round_trips() {
        let key = generate(Kind::Ecdsa(Curve::P384)).unwrap();
        let der = public_key_der(Kind::Ecdsa(Curve::P384), &key).unwrap();
        let text = pem(&der);
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(pem_to_der(&text).unwrap(), der);
        assert!(check_private(Kind::Ecdsa(Curve::P384), &key).is_ok());
        assert!(check_private(Kind::Ecdsa(Curve::P256), &key).is_err());
    }
}
