//! Who may do what (DESIGN §9): JWTs whose `ssekit` claim lists the bearer's rights, checked the
//! same way by the native server and the Worker.
//!
//! Off unless configured. When on, every route but the demo page, its assets, `/healthz` and
//! `/metrics` needs a token:
//!
//! | route | right |
//! |---|---|
//! | `POST /v1/generations`, `POST /v1/streams`, `GET /v1/generate` (without a resume position) | `create` |
//! | `GET …/events`, `GET /v1/generate` resumed, `GET /v1/generations/{id}` and its images and document | `subscribe` the id |
//! | `POST /v1/streams/{id}/events` | `publish` the id (or the stream's own publish token) |
//! | `DELETE /v1/generations/{id}` | `cancel` the id |
//!
//! ```
//! use ssekit_api::auth::{Action, Auth, Source};
//!
//! let auth = Auth::hs256(b"a secret of at least thirty-two bytes").unwrap();
//! let token = auth.mint_subscribe("gen_abc", 1_000).unwrap();
//! let grant = auth.verify(&token, 1_000).unwrap();
//! assert!(grant.allows(&Action::Subscribe("gen_abc"), Source::Query));
//! assert!(!grant.allows(&Action::Subscribe("gen_abcd"), Source::Query));
//! assert!(!grant.allows(&Action::Create, Source::Header));
//! assert_eq!(auth.verify(&token, 1_000 + 3600 + 61).unwrap_err().code(), ssekit_api::ErrorCode::TokenExpired);
//! ```

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

/// The query parameter a token may come in (`?token=`), for EventSource, which cannot set headers.
pub const QUERY_PARAM: &str = "token";
/// The cookie a token may come in.
pub const COOKIE: &str = "ssekit_token";
/// Seconds of clock skew allowed on `exp` and `nbf`.
pub const LEEWAY: u64 = 60;
/// How long a subscribe token minted for a creation answer lives, by default (seconds).
pub const DEFAULT_TOKEN_TTL: u64 = 3600;
/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash.
pub const MIN_SECRET: usize = 32;
/// Largest token read, bytes: a token is checked before anything else, so it is bounded.
pub const MAX_TOKEN: usize = 8 * 1024;

/// What a request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Start a generation or create a publish stream.
    Create,
    /// Read a stream: its events, snapshot, images, document.
    Subscribe(&'a str),
    /// Append to a publish stream.
    Publish(&'a str),
    /// Cancel a generation.
    Cancel(&'a str),
}

/// Where the token came from. A cookie is sent by the browser on its own, so a page on another
/// site could use it (cross-site request forgery): a token from a cookie grants `subscribe` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer …`.
    Header,
    /// `?token=…`.
    Query,
    /// The `ssekit_token` cookie.
    Cookie,
}

/// A token as a request presented it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// Where it was found.
    pub source: Source,
    /// The token.
    pub token: String,
}

/// Finds a request's token: the `Authorization: Bearer` header first, then (on `GET` routes,
/// when `reads` is true) `?token=`, then the `ssekit_token` cookie. `authorization` and `cookie`
/// are the header values (repeated lines joined with ", " or "; ").
///
/// ```
/// use ssekit_api::auth::{find_token, Source};
///
/// let found = find_token(None, "topic=owls&token=abc", Some("a=1; ssekit_token=def"), true).unwrap();
/// assert_eq!((found.source, found.token.as_str()), (Source::Query, "abc"));
/// assert_eq!(find_token(None, "token=abc", None, false), None);
/// ```
pub fn find_token(
    authorization: Option<&str>,
    query: &str,
    cookie: Option<&str>,
    reads: bool,
) -> Option<Presented> {
    let presented = |source, token: &str| {
        let token = token.trim();
        (!token.is_empty()).then(|| Presented {
            source,
            token: token.to_owned(),
        })
    };
    if let Some(token) = authorization.and_then(bearer) {
        return presented(Source::Header, token);
    }
    if !reads {
        return None;
    }
    if let Some(token) = crate::request::query_param(query, QUERY_PARAM) {
        return presented(Source::Query, &token);
    }
    let cookie = cookie?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)?;
    presented(Source::Cookie, cookie.1.trim_matches('"'))
}

/// The credentials of `Authorization: Bearer CREDENTIALS` (the scheme is case-insensitive).
pub fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, rest) = authorization.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// What a valid token lets its bearer do: the `ssekit` claim.
///
/// ```json
/// {"exp": 1767225600, "ssekit": {"create": true, "subscribe": ["gen_*"], "publish": ["str_abc"], "cancel": []}}
/// ```
///
/// Each list holds stream ids (`gen_abc`, matched exactly) and prefixes ending in `*` (`str_*`,
/// any id that starts with `str_`; `*` alone matches every id). Missing fields grant nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grant {
    /// May start generations and create publish streams.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub create: bool,
    /// Streams it may read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscribe: Vec<String>,
    /// Streams it may append to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub publish: Vec<String>,
    /// Generations it may cancel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancel: Vec<String>,
}

impl Grant {
    /// Whether the grant covers `action` for a token found in `source`.
    pub fn allows(&self, action: &Action<'_>, source: Source) -> bool {
        let matches = |patterns: &[String], id: &str| patterns.iter().any(|p| matches(p, id));
        match *action {
            Action::Subscribe(id) => matches(&self.subscribe, id),
            _ if source == Source::Cookie => false,
            Action::Create => self.create,
            Action::Publish(id) => matches(&self.publish, id),
            Action::Cancel(id) => matches(&self.cancel, id),
        }
    }
}

/// `pattern` is an exact id, or a prefix ending in `*`.
fn matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// The claims ssekit reads; others are ignored.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<Audience>,
    #[serde(default)]
    ssekit: Grant,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Audience::One(a) => a == wanted,
            Audience::Many(all) => all.iter().any(|a| a == wanted),
        }
    }
}

/// A verification key with the one algorithm it checks, and the key id it answers to, if any.
struct Key {
    algorithm: Algorithm,
    key: DecodingKey,
    kid: Option<String>,
}

/// Why a configuration could not be used; said once, at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAuth(String);

impl std::fmt::Display for InvalidAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidAuth {}

/// The token checker, made once from the configuration: which keys and algorithms are accepted
/// (fixed here, never taken from a token), the audience and issuer to require, and the secret
/// that signs the subscribe tokens of creation answers.
pub struct Auth {
    keys: Vec<Key>,
    mint: Option<EncodingKey>,
    audience: Option<String>,
    issuer: Option<String>,
    token_ttl: u64,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        let algorithms: Vec<Algorithm> = self.keys.iter().map(|k| k.algorithm).collect();
        f.debug_struct("Auth")
            .field("algorithms", &algorithms)
            .field("mints", &self.mint.is_some())
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("token_ttl", &self.token_ttl)
            .finish()
    }
}

impl Auth {
    /// Tokens signed with HS256 and this secret (at least [`MIN_SECRET`] bytes), which also
    /// signs the subscribe tokens of creation answers.
    pub fn hs256(secret: &[u8]) -> Result<Self, InvalidAuth> {
        check_secret(secret)?;
        let key = DecodingKey::from_secret(secret).map_err(invalid)?;
        Ok(Self {
            keys: vec![Key {
                algorithm: Algorithm::HS256,
                key,
                kid: None,
            }],
            mint: Some(EncodingKey::from_secret(secret).map_err(invalid)?),
            audience: None,
            issuer: None,
            token_ttl: DEFAULT_TOKEN_TTL,
        })
    }

    /// Tokens signed by the holder of a private key, given its public key: a PEM (RSA → RS256,
    /// P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA) or a JWKS document (`{"keys": […]}`,
    /// each key's algorithm from its `alg`, else its type; a token's `kid` picks the key).
    /// Creation answers carry no subscribe token unless [`Auth::with_mint_secret`] is given.
    pub fn public_key(text: &[u8]) -> Result<Self, InvalidAuth> {
        let keys = if text.trim_ascii_start().starts_with(b"{") {
            jwks(text)?
        } else {
            vec![pem_key(text)?]
        };
        Ok(Self {
            keys,
            mint: None,
            audience: None,
            issuer: None,
            token_ttl: DEFAULT_TOKEN_TTL,
        })
    }

    /// Signs the subscribe tokens of creation answers (HS256) with `secret`, and accepts HS256
    /// tokens signed with it — a key of its own, so a public key can never serve as an HMAC
    /// secret.
    pub fn with_mint_secret(mut self, secret: &[u8]) -> Result<Self, InvalidAuth> {
        check_secret(secret)?;
        self.keys.retain(|k| k.algorithm != Algorithm::HS256);
        self.keys.push(Key {
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret).map_err(invalid)?,
            kid: None,
        });
        self.mint = Some(EncodingKey::from_secret(secret).map_err(invalid)?);
        Ok(self)
    }

    /// Requires `aud` to be (or contain) `audience`; minted tokens carry it.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into()).filter(|a| !a.is_empty());
        self
    }

    /// Requires `iss` to be `issuer`; minted tokens carry it.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into()).filter(|i| !i.is_empty());
        self
    }

    /// How long minted subscribe tokens live, seconds (at least 1).
    pub fn with_token_ttl(mut self, secs: u64) -> Self {
        self.token_ttl = secs.max(1);
        self
    }

    /// How long minted subscribe tokens live, seconds.
    pub fn token_ttl(&self) -> u64 {
        self.token_ttl
    }

    /// Whether creation answers can carry a subscribe token.
    pub fn mints(&self) -> bool {
        self.mint.is_some()
    }

    /// The algorithms accepted, for the start-up log line.
    pub fn algorithms(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{:?}", k.algorithm))
            .collect();
        names.dedup();
        names
    }

    /// Checks a token's signature, algorithm, `exp` (required), `nbf`, `iss` and `aud` at `now`
    /// (seconds since the epoch) and returns its rights. `401 token_expired` for a token past
    /// its `exp`, `401 token_invalid` for anything else wrong.
    pub fn verify(&self, token: &str, now: u64) -> Result<Grant, ApiError> {
        if token.len() > MAX_TOKEN {
            return Err(token_invalid("the token is too long"));
        }
        // `alg: none` and unknown algorithms fail to parse here.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| token_invalid("the token is not a JWT signed with a known algorithm"))?;
        let candidates = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg)
            .filter(|k| match (&header.kid, &k.kid) {
                (Some(wanted), Some(kid)) => wanted == kid,
                _ => true,
            });
        let mut validation = Validation::new(header.alg);
        // Time, audience and issuer are checked below, with the caller's clock (the Worker's
        // comes from the runtime) and our own error codes.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        // Why no key took the token; the most telling reason wins: claims that do not parse
        // (the signature held, it is checked first) over a signature that does not verify.
        let mut refusal = Refusal::NoKey;
        let mut claims = None;
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::Json(_)) => refusal = Refusal::BadClaims,
                Err(_) => refusal = refusal.max(Refusal::BadSignature),
            }
        }
        let claims = claims.ok_or_else(|| token_invalid(refusal.message()))?;
        let now = now as f64;
        let leeway = LEEWAY as f64;
        let exp = claims
            .exp
            .ok_or_else(|| token_invalid("the token has no exp"))?;
        if exp + leeway <= now {
            return Err(ApiError::new(
                ErrorCode::TokenExpired,
                "the token has expired",
            ));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(token_invalid("the token is not valid yet (nbf)"));
        }
        if let Some(issuer) = &self.issuer {
            if claims.iss.as_deref() != Some(issuer) {
                return Err(token_invalid(
                    "the token's issuer (iss) is not the one expected",
                ));
            }
        }
        if let Some(audience) = &self.audience {
            if !claims.aud.as_ref().is_some_and(|a| a.contains(audience)) {
                return Err(token_invalid(
                    "the token's audience (aud) is not this server",
                ));
            }
        }
        Ok(claims.ssekit)
    }

    /// Checks that `presented` allows `action`: `401 token_missing` without a token,
    /// `401 token_invalid`/`token_expired` for a bad one, `403 forbidden` for a valid token
    /// without the right (with `WWW-Authenticate: Bearer error="insufficient_scope"`:
    /// [`ApiError::insufficient_scope`]).
    pub fn authorize(
        &self,
        presented: Option<&Presented>,
        action: &Action<'_>,
        now: u64,
    ) -> Result<(), ApiError> {
        let presented = presented.ok_or_else(|| token_missing(action))?;
        let grant = self.verify(&presented.token, now)?;
        if grant.allows(action, presented.source) {
            Ok(())
        } else {
            Err(forbidden(action, presented.source))
        }
    }

    /// A token that may subscribe to `stream` only, valid for the configured time from `now`
    /// (HS256, signed with the mint secret); `None` when no secret is configured to sign it.
    pub fn mint_subscribe(&self, stream: &str, now: u64) -> Option<String> {
        let key = self.mint.as_ref()?;
        let claims = Claims {
            exp: Some((now + self.token_ttl) as f64),
            nbf: None,
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone().map(Audience::One),
            ssekit: Grant {
                subscribe: vec![stream.to_owned()],
                ..Grant::default()
            },
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key).ok()
    }
}

fn check_secret(secret: &[u8]) -> Result<(), InvalidAuth> {
    if secret.len() < MIN_SECRET {
        return Err(InvalidAuth(format!(
            "the auth secret must be at least {MIN_SECRET} bytes (it has {})",
            secret.len()
        )));
    }
    Ok(())
}

fn invalid(e: jsonwebtoken::errors::Error) -> InvalidAuth {
    InvalidAuth(format!("unusable key: {e}"))
}

/// DER encodings of the named curves' object identifiers, as they appear in a PEM public key.
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

fn pem_key(text: &[u8]) -> Result<Key, InvalidAuth> {
    let key = |algorithm, key| Key {
        algorithm,
        key,
        kid: None,
    };
    if pem::parse(text).is_ok_and(|p| p.tag().contains("PRIVATE")) {
        // jsonwebtoken would take it; a private key has no business on a verifying server.
        return Err(InvalidAuth(
            "that is a private key: configure the public key (openssl pkey -in KEY -pubout)".into(),
        ));
    }
    if let Ok(k) = DecodingKey::from_rsa_pem(text) {
        return Ok(key(Algorithm::RS256, k));
    }
    if let Ok(k) = DecodingKey::from_ed_pem(text) {
        return Ok(key(Algorithm::EdDSA, k));
    }
    if let Ok(k) = DecodingKey::from_ec_pem(text) {
        let der = pem::parse(text)
            .map(|p| p.into_contents())
            .unwrap_or_default();
        let has = |oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
        if has(P256_OID) {
            return Ok(key(Algorithm::ES256, k));
        }
        if has(P384_OID) {
            return Ok(key(Algorithm::ES384, k));
        }
        return Err(InvalidAuth(
            "the EC public key is on a curve other than P-256 or P-384".into(),
        ));
    }
    Err(InvalidAuth(
        "the public key is not a PEM RSA, EC (P-256, P-384) or Ed25519 public key, nor a JWKS document"
            .into(),
    ))
}

fn jwks(text: &[u8]) -> Result<Vec<Key>, InvalidAuth> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
    let set: JwkSet = serde_json::from_slice(text)
        .map_err(|e| InvalidAuth(format!("the JWKS document does not parse: {e}")))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let by_type = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Some(Algorithm::ES256),
                EllipticCurve::P384 => Some(Algorithm::ES384),
                _ => None,
            },
            AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
            // A shared secret is configured with the secret, not published in a key set.
            _ => None,
        };
        let algorithm = match jwk.common.key_algorithm {
            Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
            Some(KeyAlgorithm::RS384) => Some(Algorithm::RS384),
            Some(KeyAlgorithm::RS512) => Some(Algorithm::RS512),
            Some(KeyAlgorithm::PS256) => Some(Algorithm::PS256),
            Some(KeyAlgorithm::PS384) => Some(Algorithm::PS384),
            Some(KeyAlgorithm::PS512) => Some(Algorithm::PS512),
            Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
            Some(KeyAlgorithm::ES384) => Some(Algorithm::ES384),
            Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
            Some(_) => None,
            None => by_type,
        };
        let Some(algorithm) = algorithm.filter(|_| by_type.is_some()) else {
            continue;
        };
        let key = DecodingKey::from_jwk(jwk).map_err(invalid)?;
        keys.push(Key {
            algorithm,
            key,
            kid: jwk.common.key_id.clone(),
        });
    }
    if keys.is_empty() {
        return Err(InvalidAuth(
            "the JWKS document has no RSA, EC or Ed25519 public key".into(),
        ));
    }
    Ok(keys)
}

/// Checks that a stream a JWT may publish to takes published events at all: a generation is
/// written by its pipeline alone, whatever a token's `publish` pattern matches (`403 forbidden`,
/// without a challenge: no token's rights would change the answer).
pub fn check_publishable(meta: &crate::stream::StreamMeta) -> Result<(), ApiError> {
    match meta.kind {
        crate::stream::StreamKind::Published => Ok(()),
        crate::stream::StreamKind::Generation => Err(ApiError::new(
            ErrorCode::Forbidden,
            "a generation is written by its pipeline alone; publish to a stream made with POST /v1/streams",
        )),
    }
}

/// Why no configured key accepted a token, least telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refusal {
    NoKey,
    BadSignature,
    BadClaims,
}

impl Refusal {
    fn message(self) -> &'static str {
        match self {
            Refusal::NoKey => "the token is signed with an algorithm this server does not accept",
            Refusal::BadSignature => "the token's signature does not verify",
            Refusal::BadClaims => "the token's claims do not parse (the ssekit claim takes create, subscribe, publish and cancel)",
        }
    }
}

fn token_invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::TokenInvalid, message)
}

fn token_missing(action: &Action<'_>) -> ApiError {
    let message = match action {
        Action::Subscribe(_) => {
            "this stream needs a token: Authorization: Bearer <token>, ?token=<token> or the ssekit_token cookie"
        }
        _ => "this route needs a token: Authorization: Bearer <token>",
    };
    ApiError::new(ErrorCode::TokenMissing, message)
}

fn forbidden(action: &Action<'_>, source: Source) -> ApiError {
    let message = match action {
        _ if source == Source::Cookie && !matches!(action, Action::Subscribe(_)) => {
            "a token from a cookie may only subscribe; send it as Authorization: Bearer"
        }
        Action::Create => "the token does not grant create",
        Action::Subscribe(_) => "the token does not grant subscribe to this stream",
        Action::Publish(_) => "the token does not grant publish to this stream",
        Action::Cancel(_) => "the token does not grant cancel of this generation",
    };
    ApiError::insufficient_scope(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{Creation, StreamCreated};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn sign(claims: serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn patterns_match_exact_ids_and_prefixes_only() {
        assert!(matches("gen_a", "gen_a"));
        assert!(!matches("gen_a", "gen_ab"));
        assert!(matches("gen_a*", "gen_ab"));
        assert!(matches("*", "str_x"));
        assert!(!matches("str_*", "gen_x"));
        assert!(!matches("", "gen_a"));
    }

    #[test]
    fn checks_exp_nbf_iss_aud_with_the_callers_clock() {
        let auth = Auth::hs256(SECRET)
            .unwrap()
            .with_audience("ssekit")
            .with_issuer("app");
        let ok =
            json!({"exp": 2000, "iss": "app", "aud": ["x", "ssekit"], "ssekit": {"create": true}});
        let grant = auth.verify(&sign(ok, SECRET), 1000).unwrap();
        assert!(grant.allows(&Action::Create, Source::Header));
        assert!(!grant.allows(&Action::Create, Source::Cookie));
        for (claims, code) in [
            (
                json!({"iss": "app", "aud": "ssekit"}),
                ErrorCode::TokenInvalid,
            ),
            (
                json!({"exp": 900, "iss": "app", "aud": "ssekit"}),
                ErrorCode::TokenExpired,
            ),
            (
                json!({"exp": 2000, "nbf": 1500, "iss": "app", "aud": "ssekit"}),
                ErrorCode::TokenInvalid,
            ),
            (
                json!({"exp": 2000, "iss": "other", "aud": "ssekit"}),
                ErrorCode::TokenInvalid,
            ),
            (json!({"exp": 2000, "iss": "app"}), ErrorCode::TokenInvalid),
        ] {
            let e = auth
                .verify(&sign(claims.clone(), SECRET), 1000)
                .unwrap_err();
            assert_eq!((e.status().as_u16(), e.code()), (401, code), "{claims}");
        }
        // Within the leeway.
        let late = json!({"exp": 990, "iss": "app", "aud": "ssekit"});
        assert!(auth.verify(&sign(late, SECRET), 1000).is_ok());
    }

    #[test]
    fn refuses_other_keys_alg_none_and_garbage() {
        let auth = Auth::hs256(SECRET).unwrap();
        let other = sign(
            json!({"exp": 2000}),
            b"another secret of thirty-two bytes!!",
        );
        assert_eq!(
            auth.verify(&other, 1000).unwrap_err().code(),
            ErrorCode::TokenInvalid
        );
        // {"alg":"none"} . {"exp":2000} . (no signature)
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJleHAiOjIwMDB9.";
        assert_eq!(
            auth.verify(none, 1000).unwrap_err().code(),
            ErrorCode::TokenInvalid
        );
        for garbage in ["", "a.b.c", "...", "x", &"a".repeat(MAX_TOKEN + 1)] {
            assert_eq!(
                auth.verify(garbage, 1000).unwrap_err().code(),
                ErrorCode::TokenInvalid
            );
        }
        assert!(Auth::hs256(b"short").is_err());
        let typo = sign(json!({"exp": 2000, "ssekit": {"subcribe": ["*"]}}), SECRET);
        let e = auth.verify(&typo, 1000).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TokenInvalid);
        assert!(e.body().contains("do not parse"), "{}", e.body());
    }

    #[test]
    fn authorize_answers_missing_forbidden_and_cookie_rules() {
        let auth = Auth::hs256(SECRET).unwrap();
        let token = sign(
            json!({"exp": 2000, "ssekit": {"subscribe": ["gen_a"], "cancel": ["gen_*"]}}),
            SECRET,
        );
        let with = |source| Presented {
            source,
            token: token.clone(),
        };
        let e = auth.authorize(None, &Action::Create, 1000).unwrap_err();
        assert_eq!(
            (e.status().as_u16(), e.code()),
            (401, ErrorCode::TokenMissing)
        );
        let e = auth
            .authorize(
                Some(&with(Source::Header)),
                &Action::Subscribe("gen_ab"),
                1000,
            )
            .unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (403, ErrorCode::Forbidden));
        let scope = Some(r#"Bearer error="insufficient_scope""#);
        assert_eq!(e.www_authenticate(), scope);
        assert!(auth
            .authorize(
                Some(&with(Source::Cookie)),
                &Action::Subscribe("gen_a"),
                1000
            )
            .is_ok());
        assert!(auth
            .authorize(Some(&with(Source::Header)), &Action::Cancel("gen_b"), 1000)
            .is_ok());
        let e = auth
            .authorize(Some(&with(Source::Cookie)), &Action::Cancel("gen_b"), 1000)
            .unwrap_err();
        assert_eq!(
            (e.code(), e.www_authenticate()),
            (ErrorCode::Forbidden, scope)
        );
    }

    #[test]
    fn a_generation_is_not_publishable_and_no_token_would_change_that() {
        use crate::stream::{StreamKind, StreamMeta};
        let meta = StreamMeta::new("gen_a".into(), StreamKind::Generation, json!({}), 0);
        let e = check_publishable(&meta).unwrap_err();
        assert_eq!(
            (e.code(), e.www_authenticate()),
            (ErrorCode::Forbidden, None)
        );
    }

    #[test]
    fn finds_tokens_in_header_then_query_then_cookie() {
        let f = |a, q, c, reads| find_token(a, q, c, reads).map(|p| (p.source, p.token));
        assert_eq!(
            f(Some("Bearer h"), "token=q", Some("ssekit_token=c"), true),
            Some((Source::Header, "h".into()))
        );
        assert_eq!(
            f(Some("bearer  h "), "", None, false),
            Some((Source::Header, "h".into()))
        );
        assert_eq!(
            f(Some("Basic x"), "token=q", None, true),
            Some((Source::Query, "q".into()))
        );
        assert_eq!(
            f(None, "", Some("a=b; ssekit_token=c; d=e"), true),
            Some((Source::Cookie, "c".into()))
        );
        assert_eq!(f(None, "token=", Some("ssekit_tokenx=c"), true), None);
        assert_eq!(f(None, "token=q", Some("ssekit_token=c"), false), None);
    }

    #[test]
    fn minted_tokens_subscribe_to_one_stream_and_ride_on_the_events_url() {
        let auth = Auth::hs256(SECRET).unwrap().with_token_ttl(60);
        let token = auth.mint_subscribe("str_x", 1000).unwrap();
        let grant = auth.verify(&token, 1050).unwrap();
        assert_eq!(grant.subscribe, vec!["str_x".to_string()]);
        assert!(!grant.create && grant.publish.is_empty() && grant.cancel.is_empty());
        assert_eq!(
            auth.verify(&token, 1000 + 60 + LEEWAY).unwrap_err().code(),
            ErrorCode::TokenExpired
        );
        let mut answer = StreamCreated::new("str_x", "pub_x");
        answer.add_subscribe_token(&token);
        assert_eq!(answer.token.as_deref(), Some(token.as_str()));
        assert_eq!(
            answer.events_url,
            format!("/v1/generations/str_x/events?token={token}")
        );
    }

    #[test]
    fn public_keys_fix_the_algorithm_and_refuse_hmac_with_the_public_key() {
        let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../ssekit/tests/keys/");
        let read = |name: &str| std::fs::read(format!("{keys}{name}")).unwrap();
        let claims = json!({"exp": 2000, "ssekit": {"create": true}});
        for (name, algorithm, private) in [
            (
                "rsa",
                Algorithm::RS256,
                EncodingKey::from_rsa_pem as fn(&[u8]) -> _,
            ),
            ("ec", Algorithm::ES256, EncodingKey::from_ec_pem),
            ("ed25519", Algorithm::EdDSA, EncodingKey::from_ed_pem),
        ] {
            let public = read(&format!("{name}.pub.pem"));
            let auth = Auth::public_key(&public).unwrap();
            assert_eq!(auth.algorithms(), vec![format!("{algorithm:?}")]);
            assert!(!auth.mints());
            let key = private(&read(&format!("{name}.pem"))).unwrap();
            let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key).unwrap();
            assert!(auth.verify(&token, 1000).unwrap().create, "{name}");
            // The classic confusion: an HMAC keyed with the public key itself.
            let forged = sign(claims.clone(), &public);
            assert_eq!(
                auth.verify(&forged, 1000).unwrap_err().code(),
                ErrorCode::TokenInvalid
            );
        }
        assert!(Auth::public_key(b"not a key").is_err());
        assert!(
            Auth::public_key(&read("rsa.pem")).is_err(),
            "a private key is refused"
        );
    }

    use serde_json::json;
}
