//! Identity: verifying a connection's token (a JWT) and what it then may do.
//!
//! One model for every door: a transport hands the token it got (`hello.token`, a WebSocket
//! upgrade's `?token=`, an `Authorization: Bearer` header) to [`Auth::verify`], and the hub's
//! session checks every join, publish, history read and presence with the resulting
//! [`Principal`] and the [`Policy`]. Verification is pure computation over keys held in memory
//! and the time passed in (the hub's sans-IO rule: no clock is read here); reading the key files
//! is I/O, done by the driver ([`Auth::load`], [`Auth::reload`] on SIGHUP).
//!
//! Tokens: HS256 with a shared secret, RS256/ES256 with a public key from a PEM file or from a
//! JWKS file (keys chosen by the token's `kid`). Claims: `sub` (required: the user id, the trusted
//! sender of the user's messages and their presence identity), `exp` (checked; a connection is
//! told when it passes and closed after a grace period unless it sends `refresh`), `nbf`, `aud`
//! and `iss` (checked when configured), and `rooms` ([`Rights`]). docs/DECISIONS.md, "Identity",
//! shows the format with examples.

#![deny(clippy::disallowed_methods)]

mod policy;
mod rights;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::{Deserialize, Serialize};

pub use policy::{Anonymous, Namespace, Policy, Publishers, Refusal};
pub use rights::{Action, Pattern, Rights};

use crate::sync::{read, write};

/// The longest token accepted, in bytes: a JWT with a generous `rooms` claim fits; a 10 KB blob
/// does not.
pub const MAX_TOKEN: usize = 4096;

/// Where the keys come from and what the tokens must say (`[auth]` in the config file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The HS256 shared secret (`--auth-secret`, `ENCHUFE_AUTH_SECRET`).
    pub secret: Option<String>,
    /// A PEM file with an RSA or EC public key, for RS256 or ES256 (`--auth-public-key`).
    pub public_key_file: Option<PathBuf>,
    /// A JWKS file (`{"keys":[…]}`), keys picked by `kid` (`--auth-jwks`).
    pub jwks_file: Option<PathBuf>,
    /// The `aud` a token must carry (`--auth-audience`); unchecked when absent.
    pub audience: Option<String>,
    /// The `iss` a token must carry (`--auth-issuer`); unchecked when absent.
    pub issuer: Option<String>,
    /// How long a connection whose token expired may stay without refreshing, in seconds
    /// (default 30; 0 closes it at the timer's next tick after the 4022).
    pub grace_secs: u64,
    /// Allowed clock skew for `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Anonymous access, names and per-namespace rules.
    pub policy: Policy,
}

impl Default for AuthConfig {
    /// No keys, no checks beyond the policy's defaults, a 30 s grace after expiry.
    fn default() -> Self {
        AuthConfig {
            secret: None,
            public_key_file: None,
            jwks_file: None,
            audience: None,
            issuer: None,
            grace_secs: 30,
            leeway_secs: 0,
            policy: Policy::default(),
        }
    }
}

impl AuthConfig {
    /// Whether any key is configured (then tokens are verified, and anonymous access defaults to
    /// none).
    pub fn has_keys(&self) -> bool {
        self.secret.is_some() || self.public_key_file.is_some() || self.jwks_file.is_some()
    }
}

/// Who a connection is, from its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`.
    pub sub: Arc<str>,
    /// The token's `rooms` claim.
    pub rights: Rights,
    /// The token's `exp`, seconds since the Unix epoch.
    pub expires: Option<u64>,
}

/// Why a token was refused (answered with 4009 `unauthorized`, or HTTP 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No key is configured, so no token can be checked.
    #[error("this server verifies no tokens (no key is configured)")]
    NoKeys,
    /// A token is required and none was given.
    #[error("a token is required")]
    Missing,
    /// Longer than [`MAX_TOKEN`].
    #[error("the token is longer than {MAX_TOKEN} bytes")]
    TooLong,
    /// Not a JWT, a bad signature, an algorithm or key this server does not accept, a wrong
    /// audience or issuer, or no `sub`.
    #[error("the token is invalid: {0}")]
    Invalid(String),
    /// Its `exp` has passed.
    #[error("the token expired")]
    Expired,
    /// Its `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYet,
    /// A key file could not be read or parsed.
    #[error("cannot load keys from {path}: {why}")]
    Keys {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
}

/// The claims enchufe reads; others are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    rooms: Option<Rights>,
}

/// The verification keys, swapped whole on reload.
#[derive(Default)]
struct Keys {
    secret: Option<DecodingKey>,
    /// The PEM key and the algorithm it verifies.
    public: Option<(DecodingKey, Algorithm)>,
    /// JWKS keys: `kid`, key, algorithm.
    jwks: Vec<(Option<String>, DecodingKey, Algorithm)>,
    /// Tokens these keys verified: a reconnect with a token already seen skips the signature
    /// check (190 µs for ES256 in pure Rust; docs/PERFORMANCE.md). It goes with the keys, so a
    /// reload forgets it.
    verified: Option<Verified>,
}

/// What the cache of verified tokens holds: principals by a MAC of their token (so the cache
/// keeps no token), at most [`VERIFIED_CACHE`] of them; when full it starts over, which keeps it
/// bounded and costs a storm of more distinct tokens than that only the signature checks it
/// would have paid anyway. `exp` is checked again on every hit.
struct Verified {
    key: crate::mac::Key,
    principals: std::sync::Mutex<std::collections::HashMap<[u8; crate::mac::TAG_LEN], Principal>>,
}

/// The most verified tokens remembered.
const VERIFIED_CACHE: usize = 16_384;

/// The token verifier and the policy, shared by the hub and the HTTP doors.
pub struct Auth {
    config: AuthConfig,
    anonymous: Anonymous,
    keys: RwLock<Arc<Keys>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("anonymous", &self.anonymous).finish_non_exhaustive()
    }
}

impl Auth {
    /// No keys, everyone allowed everything: what a local developer expects.
    pub fn open() -> Self {
        Auth { config: AuthConfig::default(), anonymous: Anonymous::Full, keys: RwLock::default() }
    }

    /// Reads the configured keys (I/O: the driver calls this, not the hub).
    pub fn load(config: AuthConfig) -> Result<Self, AuthError> {
        let keys = Keys::load(&config)?;
        let anonymous = config.policy.anonymous.unwrap_or(if config.has_keys() {
            Anonymous::None
        } else {
            Anonymous::Full
        });
        Ok(Auth { config, anonymous, keys: RwLock::new(Arc::new(keys)) })
    }

    /// Reads the key files again (SIGHUP): a JWKS rotation or a new PEM key is picked up without
    /// a restart. On error the old keys stay in use.
    pub fn reload(&self) -> Result<(), AuthError> {
        let keys = Keys::load(&self.config)?;
        *write(&self.keys) = Arc::new(keys);
        Ok(())
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.config.policy
    }

    /// What connections without a token may do.
    pub fn anonymous(&self) -> Anonymous {
        self.anonymous
    }

    /// Whether tokens are verified at all.
    pub fn has_keys(&self) -> bool {
        self.config.has_keys()
    }

    /// How long an expired connection may stay unrefreshed, in ms.
    pub fn grace_ms(&self) -> u64 {
        self.config.grace_secs.saturating_mul(1000)
    }

    /// Whether a connection with `principal` (`None`: no token) may do `action` in `room`: the
    /// policy, then the token's rights. `Err` holds the reason (4021 `forbidden`, HTTP 403).
    pub fn allow(
        &self,
        principal: Option<&Principal>,
        action: Action,
        room: &enchufe_core::RoomName,
    ) -> Result<(), String> {
        let policy = &self.config.policy;
        policy.allow(self.anonymous, principal.is_some(), action, room).map_err(|r| r.0)?;
        match principal {
            Some(p) if !p.rights.allow(action, room) => {
                Err(format!("the token does not allow {} in room {room}", action.as_str()))
            }
            _ => Ok(()),
        }
    }

    /// The principal for a request that carries `token` (or none), at `now_unix_ms`: `Ok(None)`
    /// for an anonymous request the policy lets in. For the HTTP doors (REST, SSE, the
    /// WebSocket upgrade's `?token=`).
    pub fn principal(
        &self,
        token: Option<&str>,
        now_unix_ms: u64,
    ) -> Result<Option<Principal>, AuthError> {
        match token {
            Some(token) => self.verify(token, now_unix_ms).map(Some),
            None if self.anonymous == Anonymous::None => Err(AuthError::Missing),
            None => Ok(None),
        }
    }

    /// Verifies `token` at `now_unix_ms` (the driver's wall clock).
    pub fn verify(&self, token: &str, now_unix_ms: u64) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN {
            return Err(AuthError::TooLong);
        }
        if !self.has_keys() {
            return Err(AuthError::NoKeys);
        }
        let keys = read(&self.keys).clone();
        let tag = keys.verified.as_ref().map(|v| v.key.mac(token.as_bytes()));
        if let (Some(verified), Some(tag)) = (&keys.verified, &tag) {
            let hit = crate::sync::lock(&verified.principals).get(tag).cloned();
            if let Some(principal) = hit {
                self.check_expiry(principal.expires, now_unix_ms)?;
                return Ok(principal);
            }
        }
        let invalid = |e: jsonwebtoken::errors::Error| AuthError::Invalid(e.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        let key = keys.pick(header.alg, header.kid.as_deref()).ok_or_else(|| {
            AuthError::Invalid(format!("no key for algorithm {:?} on this server", header.alg))
        })?;
        let mut validation = Validation::new(header.alg);
        // Time is checked below against the time passed in: the library would read the clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        validation.validate_aud = self.config.audience.is_some();
        if let Some(aud) = &self.config.audience {
            validation.set_audience(&[aud]);
            validation.required_spec_claims.insert("aud".into());
        }
        if let Some(iss) = &self.config.issuer {
            validation.set_issuer(&[iss]);
            validation.required_spec_claims.insert("iss".into());
        }
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(invalid)?;
        let claims = claims.claims;
        self.check_expiry(claims.exp, now_unix_ms)?;
        let now = now_unix_ms / 1000;
        if claims.nbf.is_some_and(|nbf| nbf > now.saturating_add(self.config.leeway_secs)) {
            return Err(AuthError::NotYet);
        }
        let sub = claims.sub.filter(|s| !s.is_empty() && s.len() <= 128).ok_or_else(|| {
            AuthError::Invalid("the token has no sub (1 to 128 bytes): whose is it?".into())
        })?;
        let principal = Principal {
            sub: sub.into(),
            rights: claims.rooms.unwrap_or_default(),
            expires: claims.exp,
        };
        if let (Some(verified), Some(tag)) = (&keys.verified, tag) {
            let mut principals = crate::sync::lock(&verified.principals);
            if principals.len() >= VERIFIED_CACHE {
                principals.clear();
            }
            principals.insert(tag, principal.clone());
        }
        Ok(principal)
    }

    /// `Err(Expired)` if `exp` (Unix seconds) has passed at `now_unix_ms`, give or take the
    /// configured leeway.
    fn check_expiry(&self, exp: Option<u64>, now_unix_ms: u64) -> Result<(), AuthError> {
        let now = now_unix_ms / 1000;
        match exp {
            Some(exp) if exp.saturating_add(self.config.leeway_secs) <= now => {
                Err(AuthError::Expired)
            }
            _ => Ok(()),
        }
    }
}

impl Keys {
    fn load(config: &AuthConfig) -> Result<Self, AuthError> {
        let mut keys = Keys {
            secret: config.secret.as_ref().map(|s| DecodingKey::from_secret(s.as_bytes())),
            verified: Some(Verified {
                key: crate::mac::Key::random(),
                principals: std::sync::Mutex::default(),
            }),
            ..Keys::default()
        };
        if let Some(path) = &config.public_key_file {
            let pem = read_file(path)?;
            let bad = |why: String| AuthError::Keys { path: path.clone(), why };
            keys.public = Some(if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                (key, Algorithm::RS256)
            } else {
                let key = DecodingKey::from_ec_pem(&pem)
                    .map_err(|e| bad(format!("neither an RSA nor an EC public key: {e}")))?;
                (key, Algorithm::ES256)
            });
        }
        if let Some(path) = &config.jwks_file {
            let text = read_file(path)?;
            let bad = |why: String| AuthError::Keys { path: path.clone(), why };
            let set: JwkSet = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
            for jwk in &set.keys {
                let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(e.to_string()))?;
                let alg = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => continue,
                };
                keys.jwks.push((jwk.common.key_id.clone(), key, alg));
            }
        }
        Ok(keys)
    }

    /// The key for a token signed with `alg` (and naming `kid`): only HS256, RS256 and ES256 are
    /// accepted, each with its own kind of key, so a token cannot pick a weaker check.
    fn pick(&self, alg: Algorithm, kid: Option<&str>) -> Option<&DecodingKey> {
        match alg {
            Algorithm::HS256 => self.secret.as_ref(),
            Algorithm::RS256 | Algorithm::ES256 => {
                let from_jwks = self
                    .jwks
                    .iter()
                    .find(|(k, _, a)| *a == alg && (kid.is_none() || k.as_deref() == kid));
                from_jwks
                    .map(|(_, key, _)| key)
                    .or_else(|| self.public.as_ref().filter(|(_, a)| *a == alg).map(|(key, _)| key))
            }
            _ => None,
        }
    }
}

/// Mints an HS256 token with `claims`, signed with `secret`: `enchufe token` (development) and
/// tests. A real application's backend mints its tokens with its own JWT library; the claims
/// are documented in docs/DECISIONS.md ("Identity").
pub fn mint(secret: &str, claims: &serde_json::Value) -> String {
    let header = jsonwebtoken::Header::new(Algorithm::HS256);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    // Encoding a JSON value with an HMAC key cannot fail.
    jsonwebtoken::encode(&header, claims, &key).unwrap_or_default()
}

fn read_file(path: &Path) -> Result<Vec<u8>, AuthError> {
    std::fs::read(path).map_err(|e| AuthError::Keys { path: path.to_owned(), why: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    const NOW_MS: u64 = 1_800_000_000_000;

    fn hs(secret: &str) -> Auth {
        Auth::load(AuthConfig { secret: Some(secret.into()), ..AuthConfig::default() }).unwrap()
    }

    fn token(secret: &str, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_good_token_gives_its_sub_rights_and_expiry() {
        let auth = hs("s3cret");
        let t = token(
            "s3cret",
            serde_json::json!({"sub": "alice", "exp": 1_800_000_060u64, "rooms": ["chat:*"]}),
        );
        let p = auth.verify(&t, NOW_MS).unwrap();
        assert_eq!(&*p.sub, "alice");
        assert_eq!(p.expires, Some(1_800_000_060));
        let room = enchufe_core::RoomName::new("chat:a").unwrap();
        assert!(p.rights.allow(Action::Publish, &room));
        assert_eq!(auth.anonymous(), Anonymous::None, "keys configured: tokens required");
    }

    #[test]
    fn bad_tokens_are_refused_with_their_reason() {
        let auth = hs("s3cret");
        let claims = serde_json::json!({"sub": "alice"});
        assert!(matches!(
            auth.verify(&token("other", claims.clone()), NOW_MS),
            Err(AuthError::Invalid(_))
        ));
        let expired = serde_json::json!({"sub": "a", "exp": 1_799_999_999u64});
        assert_eq!(auth.verify(&token("s3cret", expired), NOW_MS), Err(AuthError::Expired));
        let early = serde_json::json!({"sub": "a", "nbf": 1_800_000_100u64});
        assert_eq!(auth.verify(&token("s3cret", early), NOW_MS), Err(AuthError::NotYet));
        let nobody = serde_json::json!({"exp": 1_900_000_000u64});
        assert!(matches!(
            auth.verify(&token("s3cret", nobody), NOW_MS),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(auth.verify("junk", NOW_MS), Err(AuthError::Invalid(_))));
        assert!(matches!(auth.verify("", NOW_MS), Err(AuthError::Invalid(_))));
        assert_eq!(auth.verify(&"x".repeat(10_000), NOW_MS), Err(AuthError::TooLong));
        assert_eq!(Auth::open().verify(&token("s3cret", claims), NOW_MS), Err(AuthError::NoKeys));
    }

    #[test]
    fn a_token_verified_once_is_remembered_but_still_expires() {
        let auth = hs("s3cret");
        let t = token("s3cret", serde_json::json!({"sub": "alice", "exp": 1_800_000_060u64}));
        assert!(auth.verify(&t, NOW_MS).is_ok());
        assert!(auth.verify(&t, NOW_MS + 1_000).is_ok(), "again: from the cache");
        assert_eq!(auth.verify(&t, NOW_MS + 60_000), Err(AuthError::Expired), "even when cached");
        let forged = token("other", serde_json::json!({"sub": "alice", "exp": 1_800_000_060u64}));
        assert!(matches!(auth.verify(&forged, NOW_MS), Err(AuthError::Invalid(_))), "not cached");
    }

    #[test]
    fn the_audience_and_issuer_are_checked_when_configured() {
        let auth = Auth::load(AuthConfig {
            secret: Some("k".into()),
            audience: Some("enchufe".into()),
            issuer: Some("https://id.example".into()),
            ..AuthConfig::default()
        })
        .unwrap();
        let good = serde_json::json!({"sub": "a", "aud": "enchufe", "iss": "https://id.example"});
        assert!(auth.verify(&token("k", good), NOW_MS).is_ok());
        let wrong = serde_json::json!({"sub": "a", "aud": "other", "iss": "https://id.example"});
        assert!(matches!(auth.verify(&token("k", wrong), NOW_MS), Err(AuthError::Invalid(_))));
        let none = serde_json::json!({"sub": "a", "iss": "https://id.example"});
        assert!(matches!(auth.verify(&token("k", none), NOW_MS), Err(AuthError::Invalid(_))));
    }
}
