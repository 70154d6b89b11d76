//! The tokens the auth cases present, minted here as an app's own backend would: one place for
//! the secret, the claims and the signing the auth, hostile and CLI tests share.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The shared secret of the HS256 servers (at least 32 bytes).
pub const SECRET: &str = "ssekit-auth-test-secret-0123456789abcdef";

/// Seconds since the epoch: what `exp` is counted in.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The path of `tests/keys/NAME` (the RSA, EC and Ed25519 key pairs of the public-key cases).
pub fn key_file(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `claims` signed with `key` by `algorithm`.
pub fn sign(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

/// `claims` signed with HS256 and `secret`.
pub fn hs(claims: Value, secret: &[u8]) -> String {
    sign(
        &claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(secret).unwrap(),
    )
}

/// A token valid for ten minutes granting `rights` (the `ssekit` claim), signed with `key` by
/// `algorithm`.
pub fn token_with(rights: Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    sign(
        &json!({ "exp": now() + 600, "ssekit": rights }),
        algorithm,
        key,
    )
}

/// A token valid for ten minutes granting `rights`, signed with HS256 and [`SECRET`].
pub fn token(rights: Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    token_with(rights, Algorithm::HS256, &key)
}

/// A token granting everything.
pub fn admin() -> String {
    token(json!({ "create": true, "subscribe": ["*"], "publish": ["*"], "cancel": ["*"] }))
}
