//! Password hashing with Argon2id (PHC strings, random salts).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Argon2 refused the input (for example a password longer than it accepts).
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Hashes `password` with Argon2id and a fresh random salt; returns the PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. A malformed `phc` matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A keyed BLAKE2b fingerprint of `password` as checked against `phc`, for a
/// short-lived cache of verified sign-ins: comparing fingerprints costs
/// microseconds where Argon2 costs tens of milliseconds, the key never leaves
/// the process, and a changed password hash (`phc`) changes every fingerprint.
pub fn fingerprint(key: &[u8; 32], phc: &str, password: &str) -> [u8; 32] {
    use blake2::Digest;
    // BLAKE2 has no length extension, so the secret key as a prefix is a sound MAC.
    let mut mac = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    mac.update(key);
    mac.update((phc.len() as u64).to_le_bytes());
    mac.update(phc.as_bytes());
    mac.update(password.as_bytes());
    mac.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_depend_on_key_hash_and_password() {
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        let f = fingerprint(&k1, "$argon2id$a", "pw");
        assert_eq!(f, fingerprint(&k1, "$argon2id$a", "pw"));
        assert_ne!(f, fingerprint(&k2, "$argon2id$a", "pw"));
        assert_ne!(f, fingerprint(&k1, "$argon2id$b", "pw"));
        assert_ne!(f, fingerprint(&k1, "$argon2id$a", "pW"));
    }

    #[test]
    fn hash_is_argon2id_phc_and_verifies_only_the_same_password() {
        let phc = hash("Pa$$w0rd").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify("Pa$$w0rd", &phc));
        assert!(!verify("pa$$w0rd", &phc));
        assert!(!verify("", &phc));
    }

    #[test]
    fn each_hash_has_its_own_salt() {
        let (a, b) = (hash("same").unwrap(), hash("same").unwrap());
        assert_ne!(a, b);
        assert!(verify("same", &a) && verify("same", &b));
    }

    #[test]
    fn malformed_phc_strings_match_nothing() {
        for phc in ["", "plain", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB", "$md5$xyz"] {
            assert!(!verify("anything", phc), "{phc}");
        }
    }
}
