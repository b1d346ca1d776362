//! Signing and verifying a message digest with any (hash, padding) pair OCI
//! offers, through aws-lc's `EVP_PKEY` API.
//!
//! aws-lc-rs's safe API covers only some of OCI's `signingAlgorithm`s: it
//! has no RSA encoding with SHA-224 and signs ECDSA only with the curve's
//! own hash. OCI's `Sign` offers SHA-224/256/384/512 with PKCS #1 v1.5 and
//! PSS, and ECDSA with SHA-256/384/512 on every curve (`SignDataDetails`).
//! The same aws-lc library does all of them through `EVP_PKEY_sign` /
//! `EVP_PKEY_verify`, which this module wraps: two owned pointers with
//! `Drop`, every return code checked, the thread's error queue cleared.
//!
//! With `store/heap.rs`'s one `malloc_trim` call, this is the only
//! `unsafe` code of the crate.

#![allow(unsafe_code)]

use std::ptr::{self, NonNull};

use aws_lc_sys as ffi;

use super::Error;

/// A hash of the SHA-2 family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-224 (28-byte digest).
    Sha224,
    /// SHA-256 (32-byte digest).
    Sha256,
    /// SHA-384 (48-byte digest).
    Sha384,
    /// SHA-512 (64-byte digest).
    Sha512,
}

impl Hash {
    /// The digest's length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Hash::Sha224 => 28,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// The digest of `message`.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        use aws_lc_rs::digest;
        let algorithm = match self {
            Hash::Sha224 => &digest::SHA224,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, message).as_ref().to_vec()
    }

    fn md(self) -> *const ffi::EVP_MD {
        // SAFETY: these return pointers to static method tables.
        unsafe {
            match self {
                Hash::Sha224 => ffi::EVP_sha224(),
                Hash::Sha256 => ffi::EVP_sha256(),
                Hash::Sha384 => ffi::EVP_sha384(),
                Hash::Sha512 => ffi::EVP_sha512(),
            }
        }
    }
}

/// A signature scheme: padding (or ECDSA) and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1(Hash),
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the digest.
    RsaPss(Hash),
    /// ECDSA; the signature is DER (`Ecdsa-Sig-Value`, RFC 3279).
    Ecdsa(Hash),
}

impl Scheme {
    /// The hash the digest must be made with.
    pub const fn hash(self) -> Hash {
        match self {
            Scheme::RsaPkcs1(h) | Scheme::RsaPss(h) | Scheme::Ecdsa(h) => h,
        }
    }

    const fn key_type(self) -> i32 {
        match self {
            Scheme::RsaPkcs1(_) | Scheme::RsaPss(_) => ffi::EVP_PKEY_RSA,
            Scheme::Ecdsa(_) => ffi::EVP_PKEY_EC,
        }
    }
}

fn failed(what: &str) -> Error {
    // SAFETY: clears this thread's aws-lc error queue; no arguments.
    unsafe { ffi::ERR_clear_error() };
    Error::Internal(anyhow::anyhow!("{what} failed"))
}

/// An owned `EVP_PKEY` parsed from a PKCS #8 private key.
struct Pkey(NonNull<ffi::EVP_PKEY>);

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: we own the only reference, made by EVP_parse_private_key.
        unsafe { ffi::EVP_PKEY_free(self.0.as_ptr()) }
    }
}

impl Pkey {
    fn from_pkcs8(der: &[u8], key_type: i32) -> Result<Self, Error> {
        let mut cbs = ffi::CBS {
            data: der.as_ptr(),
            len: der.len(),
        };
        // SAFETY: `cbs` points into `der`, which outlives the call; the
        // parser copies what it keeps.
        let pkey = unsafe { ffi::EVP_parse_private_key(&mut cbs) };
        let pkey = Pkey(NonNull::new(pkey).ok_or_else(|| failed("parsing the private key"))?);
        // SAFETY: a valid EVP_PKEY.
        if unsafe { ffi::EVP_PKEY_id(pkey.0.as_ptr()) } != key_type {
            return Err(Error::Internal(anyhow::anyhow!(
                "the key's type does not fit the signature scheme"
            )));
        }
        Ok(pkey)
    }
}

/// An owned `EVP_PKEY_CTX`, set up for signing or verifying with a scheme.
struct PkeyCtx(NonNull<ffi::EVP_PKEY_CTX>);

impl Drop for PkeyCtx {
    fn drop(&mut self) {
        // SAFETY: we own it; made by EVP_PKEY_CTX_new.
        unsafe { ffi::EVP_PKEY_CTX_free(self.0.as_ptr()) }
    }
}

impl PkeyCtx {
    fn new(pkey: &Pkey, scheme: Scheme, verify: bool) -> Result<Self, Error> {
        // SAFETY: a valid EVP_PKEY; the context takes its own reference.
        let ctx = unsafe { ffi::EVP_PKEY_CTX_new(pkey.0.as_ptr(), ptr::null_mut()) };
        let ctx = PkeyCtx(NonNull::new(ctx).ok_or_else(|| failed("EVP_PKEY_CTX_new"))?);
        let c = ctx.0.as_ptr();
        let md = scheme.hash().md();
        // SAFETY: `c` is a valid context for the life of `ctx`; `md` is static.
        let ok = unsafe {
            (if verify {
                ffi::EVP_PKEY_verify_init(c)
            } else {
                ffi::EVP_PKEY_sign_init(c)
            }) == 1
                && ffi::EVP_PKEY_CTX_set_signature_md(c, md) == 1
                && match scheme {
                    Scheme::RsaPkcs1(_) => {
                        ffi::EVP_PKEY_CTX_set_rsa_padding(c, ffi::RSA_PKCS1_PADDING) == 1
                    }
                    Scheme::RsaPss(_) => {
                        ffi::EVP_PKEY_CTX_set_rsa_padding(c, ffi::RSA_PKCS1_PSS_PADDING) == 1
                            && ffi::EVP_PKEY_CTX_set_rsa_pss_saltlen(c, ffi::RSA_PSS_SALTLEN_DIGEST)
                                == 1
                            && ffi::EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) == 1
                    }
                    Scheme::Ecdsa(_) => true,
                }
        };
        if !ok {
            return Err(failed("setting up the signature scheme"));
        }
        Ok(ctx)
    }
}

fn check_digest(scheme: Scheme, digest: &[u8]) -> Result<(), Error> {
    if digest.len() != scheme.hash().output_len() {
        return Err(Error::Internal(anyhow::anyhow!(
            "a {:?} digest is {} bytes, not {}",
            scheme.hash(),
            scheme.hash().output_len(),
            digest.len()
        )));
    }
    Ok(())
}

/// Signs `digest` (already hashed with `scheme.hash()`, exactly that long)
/// with the PKCS #8 private key `pkcs8`. RSA signatures are as long as the
/// modulus; ECDSA signatures are DER.
///
/// # Errors
/// [`Error::Internal`] when the key does not parse, is not of the scheme's
/// type, or the digest has the wrong length.
pub fn sign_digest(pkcs8: &[u8], scheme: Scheme, digest: &[u8]) -> Result<Vec<u8>, Error> {
    check_digest(scheme, digest)?;
    let pkey = Pkey::from_pkcs8(pkcs8, scheme.key_type())?;
    let ctx = PkeyCtx::new(&pkey, scheme, false)?;
    let mut len = 0usize;
    // SAFETY: a null output asks for the maximum signature length.
    if unsafe {
        ffi::EVP_PKEY_sign(
            ctx.0.as_ptr(),
            ptr::null_mut(),
            &mut len,
            digest.as_ptr(),
            digest.len(),
        )
    } != 1
    {
        return Err(failed("EVP_PKEY_sign (length)"));
    }
    let mut signature = vec![0u8; len];
    // SAFETY: `signature` has `len` writable bytes; aws-lc writes at most
    // that many and sets `len` to what it wrote.
    if unsafe {
        ffi::EVP_PKEY_sign(
            ctx.0.as_ptr(),
            signature.as_mut_ptr(),
            &mut len,
            digest.as_ptr(),
            digest.len(),
        )
    } != 1
    {
        return Err(failed("EVP_PKEY_sign"));
    }
    signature.truncate(len);
    Ok(signature)
}

/// Whether `signature` is a valid signature of `digest` under the public
/// half of the PKCS #8 private key `pkcs8`. A malformed signature is
/// `Ok(false)`, as OCI's `Verify` answers `isSignatureValid: false`.
///
/// # Errors
/// [`Error::Internal`] when the key does not parse or is not of the
/// scheme's type, or the digest has the wrong length.
pub fn verify_digest(
    pkcs8: &[u8],
    scheme: Scheme,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, Error> {
    check_digest(scheme, digest)?;
    let pkey = Pkey::from_pkcs8(pkcs8, scheme.key_type())?;
    let ctx = PkeyCtx::new(&pkey, scheme, true)?;
    // SAFETY: all pointers are valid for the lengths given.
    let valid = unsafe {
        ffi::EVP_PKEY_verify(
            ctx.0.as_ptr(),
            signature.as_ptr(),
            signature.len(),
            digest.as_ptr(),
            digest.len(),
        )
    } == 1;
    if !valid {
        // SAFETY: no arguments; drops the reason a signature was refused.
        unsafe { ffi::ERR_clear_error() };
    }
    Ok(valid)
}
