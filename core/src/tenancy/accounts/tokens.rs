//! Access tokens: compact JWTs (`iss` `caly`, `aud` [`AUDIENCE`]) signed with HMAC-SHA256 under a
//! key named by `kid` in the header, so keys can be rotated. Keys live in `signing_keys`, sealed
//! with the master key; the newest signs, and every key verifies until its `retired_at`. A
//! rotation retires the key it replaces one access-token lifetime later, and every process
//! checks that time on each token (not only when it reloads), so a retired key stops working
//! everywhere at the same moment. Each process caches the keys and reloads them every few
//! minutes, or when a token names a key it has not seen.

use crate::platform::crypto::{MasterKey, SealedAt, constant_time_eq, random_token};
use crate::{CoreError, Rejection};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caly_entities::signing_key;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How often a process reloads the keys even when nothing asks it to.
pub const RELOAD_EVERY: Duration = Duration::from_secs(300);
/// The least time between reloads caused by an unknown `kid` (so junk tokens cannot flood the
/// database).
const UNKNOWN_KID_RELOAD_GAP: Duration = Duration::from_secs(1);

/// The audience of Caly's access tokens: its own API, nothing else.
pub const AUDIENCE: &str = "caly-api";

/// What an access token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: `caly`.
    pub iss: String,
    /// Audience: [`AUDIENCE`].
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The tenant's id.
    pub tid: i64,
    /// The session's id.
    pub sid: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// A key as cached: its id, its secret, and when it stops verifying.
type CachedKey = (String, Vec<u8>, Option<DateTime<Utc>>);

struct Loaded {
    keys: Vec<CachedKey>,
    at: Instant,
}

/// The signing keys, cached per process.
#[derive(Default)]
pub struct SigningKeys {
    loaded: RwLock<Option<Loaded>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys(<redacted>)")
    }
}

fn mac(key: &[u8], message: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length works");
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Adds a new signing key, which signs from now on. The key it replaces retires `grace` (the
/// access-token lifetime) plus one cache period from now: other processes may sign with it
/// until they reload, and the tokens they signed verify until they expire. Any older key still
/// verifying retires now. Returns the new `kid`.
pub async fn rotate(
    db: &impl ConnectionTrait,
    master: &MasterKey,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<String, CoreError> {
    let live = signing_key::Column::RetiredAt
        .is_null()
        .or(signing_key::Column::RetiredAt.gt(now));
    let previous = signing_key::Entity::find()
        .filter(signing_key::Column::RetiredAt.is_null())
        .order_by_desc(signing_key::Column::Id)
        .one(db)
        .await?;
    let created = insert_key(db, master, now).await?;
    let mut retire = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(Some(now)))
        .filter(live)
        .filter(signing_key::Column::Id.ne(created.id));
    if let Some(previous) = &previous {
        retire = retire.filter(signing_key::Column::Id.ne(previous.id));
    }
    retire.exec(db).await?;
    if let Some(previous) = previous {
        let at = now
            + chrono::Duration::from_std(grace + RELOAD_EVERY).unwrap_or(chrono::Duration::zero());
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::RetiredAt, Expr::value(Some(at)))
            .filter(signing_key::Column::Id.eq(previous.id))
            .exec(db)
            .await?;
    }
    Ok(created.kid)
}

async fn insert_key(
    db: &impl ConnectionTrait,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> Result<signing_key::Model, CoreError> {
    let secret = random_token("");
    let kid = random_token("k")[..17].to_string();
    let at = SealedAt::new("signing_keys", "secret_enc", &kid);
    Ok(signing_key::ActiveModel {
        secret_enc: Set(master.seal(&secret, at)),
        kid: Set(kid),
        created_at: Set(now),
        retired_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

impl SigningKeys {
    /// Drops the cached keys, so the next token is signed and checked with the keys stored now
    /// (after a rotation in this process).
    pub fn forget(&self) {
        *self.loaded.write().expect("not poisoned") = None;
    }

    fn cached(&self, max_age: Duration) -> Option<Vec<CachedKey>> {
        let loaded = self.loaded.read().expect("not poisoned");
        loaded
            .as_ref()
            .filter(|l| l.at.elapsed() < max_age && !l.keys.is_empty())
            .map(|l| l.keys.clone())
    }

    async fn reload(
        &self,
        db: &impl ConnectionTrait,
        master: &MasterKey,
        now: DateTime<Utc>,
    ) -> Result<Vec<CachedKey>, CoreError> {
        let verifying = || {
            signing_key::Entity::find()
                .filter(
                    signing_key::Column::RetiredAt
                        .is_null()
                        .or(signing_key::Column::RetiredAt.gt(now)),
                )
                .order_by_desc(signing_key::Column::Id)
                .all(db)
        };
        let mut rows = verifying().await?;
        // The newest key that is not retiring signs: it comes first.
        rows.sort_by_key(|row| (row.retired_at.is_some(), std::cmp::Reverse(row.id)));
        if rows.iter().all(|row| row.retired_at.is_some()) {
            insert_key(db, master, now).await?;
            // Two processes may both have made one: whichever is newest signs, both verify.
            rows = verifying().await?;
            rows.sort_by_key(|row| (row.retired_at.is_some(), std::cmp::Reverse(row.id)));
        }
        let keys = rows
            .into_iter()
            .map(|row| {
                let at = SealedAt::new("signing_keys", "secret_enc", &row.kid);
                let secret = master.open(&row.secret_enc, at)?.into_bytes();
                Ok((row.kid, secret, row.retired_at))
            })
            .collect::<Result<Vec<_>, CoreError>>()?;
        *self.loaded.write().expect("not poisoned") = Some(Loaded {
            keys: keys.clone(),
            at: Instant::now(),
        });
        Ok(keys)
    }

    /// Signs `claims` with the newest key.
    pub async fn sign(
        &self,
        db: &impl ConnectionTrait,
        master: &MasterKey,
        claims: &Claims,
        now: DateTime<Utc>,
    ) -> Result<String, CoreError> {
        let keys = match self.cached(RELOAD_EVERY) {
            Some(keys) => keys,
            None => self.reload(db, master, now).await?,
        };
        let (kid, key, _) = &keys[0];
        let header = Header {
            alg: "HS256".into(),
            typ: "JWT".into(),
            kid: kid.clone(),
        };
        let encode = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        let signing_input = format!(
            "{}.{}",
            encode(&serde_json::to_vec(&header).expect("serialisable")),
            encode(&serde_json::to_vec(claims).expect("serialisable"))
        );
        let signature = mac(key, &signing_input);
        Ok(format!("{signing_input}.{signature}"))
    }

    /// Checks a token's signature and expiry; returns its claims.
    pub async fn verify(
        &self,
        db: &impl ConnectionTrait,
        master: &MasterKey,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Claims, CoreError> {
        let invalid =
            || Rejection::Unauthenticated("The access token is not valid; sign in again.");
        let mut parts = token.split('.');
        let (Some(header), Some(body), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid().into());
        };
        let header: Header = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(invalid)?;
        if header.alg != "HS256" {
            return Err(invalid().into());
        }
        // A key past its retirement stops verifying here and now, whatever the cache holds.
        let find = |keys: &[CachedKey]| {
            keys.iter()
                .find(|(kid, _, retired_at)| {
                    *kid == header.kid && retired_at.is_none_or(|at| at > now)
                })
                .map(|(_, key, _)| key.clone())
        };
        let key = match self.cached(RELOAD_EVERY).as_deref().and_then(find) {
            Some(key) => key,
            None if self.cached(UNKNOWN_KID_RELOAD_GAP).is_some() => {
                return Err(invalid().into());
            }
            None => find(&self.reload(db, master, now).await?).ok_or_else(invalid)?,
        };
        let expected = mac(&key, &token[..token.len() - signature.len() - 1]);
        if !constant_time_eq(&expected, signature) {
            return Err(invalid().into());
        }
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(invalid)?;
        if claims.iss != "caly" || claims.aud != AUDIENCE {
            return Err(invalid().into());
        }
        if claims.exp <= now.timestamp() {
            return Err(
                Rejection::Unauthenticated("The access token has expired; refresh it.").into(),
            );
        }
        Ok(claims)
    }
}
