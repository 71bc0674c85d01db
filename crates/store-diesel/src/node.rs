//! This node as plan documents name it, the registers it offers to partners, and the token
//! secret of an embedded installation.
//!
//! # Design
//!
//! - **Identity is created once, by whoever asks first.** [`Store::node`] inserts any missing
//!   setting with `ON CONFLICT DO NOTHING` and then reads all of them back, so several server
//!   processes sharing one database agree on one identity without coordination.
//! - **An offer's slice UUID is fixed while the offer stands.** Withdrawing deletes it and a
//!   later offer gets a new slice, which partners subscribe to anew. Plans already made keep
//!   working: a slice is resolved through the plan's own document (its register link), not
//!   through the offers.
//!
//! [`Store::node`]: crate::store::Store::node

use argon2::password_hash::rand_core::{OsRng, RngCore};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::rows::{now, OfferRow};
use crate::schema::{node_settings, offers, registers};

pub use crate::model::{NodeIdentity, Offer};

/// Settings the identity is made of, with how a missing one is first set.
const UUID_SETTINGS: [&str; 4] = ["node_uuid", "instance_uuid", "controller_uuid", "pool_uuid"];
const DESCRIPTION: &str = "description";
const CONTROLLER_DESCRIPTION: &str = "controller_description";
const ADMIN_CONTACT: &str = "admin_contact";
const ADMIN_EMAIL: &str = "admin_email";
const TOKEN_SECRET: &str = "token_secret";
const ORIGIN: &str = "origin";
const LOG_KEY: &str = "log_key";
const COSIGNER_KEY: &str = "cosigner_key";
/// The node origin until the operator sets one.
pub const DEFAULT_ORIGIN: &str = "localhost";

/// Inserts `name = value` unless `name` is set already; the value in the store wins.
fn insert_if_absent(conn: &mut AnyConnection, name: &str, value: &str) -> Result<(), StoreError> {
    let insert = diesel::insert_into(node_settings::table)
        .values((node_settings::name.eq(name), node_settings::value.eq(value)))
        .on_conflict(node_settings::name)
        .do_nothing();
    // Upserts are backend-specific SQL: run the same statement on the concrete connection.
    match conn {
        AnyConnection::Postgresql(c) => insert.execute(c)?,
        AnyConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}

fn setting(conn: &mut AnyConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(node_settings::table
        .find(name)
        .select(node_settings::value)
        .first(conn)
        .optional()?)
}

/// This node's identity, created with fresh UUIDs the first time any process asks.
pub(crate) fn identity(conn: &mut AnyConnection) -> Result<NodeIdentity, StoreError> {
    for name in UUID_SETTINGS {
        insert_if_absent(conn, name, &Uuid::new_v4().to_string())?;
    }
    insert_if_absent(conn, DESCRIPTION, "Register server")?;
    insert_if_absent(conn, CONTROLLER_DESCRIPTION, "Register server operators")?;
    let uuid = |conn: &mut AnyConnection, name: &str| -> Result<Uuid, StoreError> {
        let value = setting(conn, name)?
            .ok_or_else(|| StoreError::Corrupt(format!("node setting '{name}' is missing")))?;
        Uuid::parse_str(&value)
            .map_err(|e| StoreError::Corrupt(format!("node setting '{name}': {e}")))
    };
    Ok(NodeIdentity {
        node_uuid: uuid(conn, "node_uuid")?,
        instance_uuid: uuid(conn, "instance_uuid")?,
        controller_uuid: uuid(conn, "controller_uuid")?,
        pool_uuid: uuid(conn, "pool_uuid")?,
        description: setting(conn, DESCRIPTION)?.unwrap_or_default(),
        controller_description: setting(conn, CONTROLLER_DESCRIPTION)?.unwrap_or_default(),
        admin_contact: setting(conn, ADMIN_CONTACT)?,
        admin_email: setting(conn, ADMIN_EMAIL)?,
    })
}

/// Changes the descriptive parts of the identity, inside the caller's transaction (`None`
/// leaves a part as it is; an empty contact or email removes it). The identity must exist.
pub(crate) fn set_details(
    conn: &mut AnyConnection,
    description: Option<&str>,
    contact: Option<&str>,
    email: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(description) = description {
        if description.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a node description must not be empty".into(),
            ));
        }
        diesel::update(node_settings::table.find(DESCRIPTION))
            .set(node_settings::value.eq(description))
            .execute(conn)?;
    }
    for (name, value) in [(ADMIN_CONTACT, contact), (ADMIN_EMAIL, email)] {
        match value {
            None => {}
            Some("") => {
                diesel::delete(node_settings::table.find(name)).execute(conn)?;
            }
            Some(value) => {
                diesel::delete(node_settings::table.find(name)).execute(conn)?;
                diesel::insert_into(node_settings::table)
                    .values((node_settings::name.eq(name), node_settings::value.eq(value)))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// The token secret, generated (32 random bytes, stored as hex) the first time.
pub(crate) fn token_secret(conn: &mut AnyConnection) -> Result<Vec<u8>, StoreError> {
    let mut fresh = [0u8; 32];
    OsRng.fill_bytes(&mut fresh);
    insert_if_absent(conn, TOKEN_SECRET, &hex::encode(fresh))?;
    let stored = setting(conn, TOKEN_SECRET)?
        .ok_or_else(|| StoreError::Corrupt("the token secret is missing".into()))?;
    hex::decode(stored).map_err(|e| StoreError::Corrupt(format!("the token secret: {e}")))
}

/// Offers the register `name` (with `description`, or the register's name), inside the
/// caller's transaction; offering it again only changes the description.
/// `RegisterNotFound` for an unknown register.
/// The node origin (checkpoints.md §1): the operator's setting, or [`DEFAULT_ORIGIN`].
pub(crate) fn origin(conn: &mut AnyConnection) -> Result<String, StoreError> {
    Ok(setting(conn, ORIGIN)?.unwrap_or_else(|| DEFAULT_ORIGIN.to_string()))
}

/// Checks a node origin: a scheme-less URL prefix usable as a note key name.
pub fn check_origin(origin: &str) -> Result<(), StoreError> {
    let invalid = |why: &str| Err(StoreError::Invalid(format!("origin '{origin}' {why}")));
    if !tlog_core::note::is_valid_name(origin) {
        return invalid("must be non-empty, without spaces or '+'");
    }
    if origin.contains("://") {
        return invalid("has no scheme: write registers.example.org, not https://…");
    }
    if origin.ends_with('/') {
        return invalid("has no trailing slash");
    }
    if origin.chars().any(char::is_control) || origin.len() > 200 {
        return invalid("must be printable and at most 200 characters");
    }
    Ok(())
}

pub(crate) fn set_origin(conn: &mut AnyConnection, origin: &str) -> Result<(), StoreError> {
    check_origin(origin)?;
    diesel::delete(node_settings::table.find(ORIGIN)).execute(conn)?;
    diesel::insert_into(node_settings::table)
        .values((
            node_settings::name.eq(ORIGIN),
            node_settings::value.eq(origin),
        ))
        .execute(conn)?;
    Ok(())
}

/// The log and cosigner keys of an embedded installation: generated on first use and kept
/// (as private key strings, under placeholder names: each use renames them).
pub(crate) fn generated_keys(
    conn: &mut AnyConnection,
) -> Result<(tlog_core::PrivateKey, tlog_core::PrivateKey), StoreError> {
    let mut read =
        |setting_name: &str, key_type: u8| -> Result<tlog_core::PrivateKey, StoreError> {
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let fresh = tlog_core::PrivateKey::from_seed(setting_name, key_type, seed)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            insert_if_absent(conn, setting_name, &fresh.to_private_string())?;
            let stored = setting(conn, setting_name)?.ok_or_else(|| {
                StoreError::Corrupt(format!("node setting '{setting_name}' is missing"))
            })?;
            // The error never quotes the key.
            tlog_core::PrivateKey::parse(&stored)
                .map_err(|e| StoreError::Corrupt(format!("node setting '{setting_name}': {e}")))
        };
    let log = read(LOG_KEY, tlog_core::note::ED25519)?;
    let cosigner = read(COSIGNER_KEY, tlog_core::note::COSIGNATURE_V1)?;
    Ok((log, cosigner))
}

pub(crate) fn offer(
    conn: &mut AnyConnection,
    name: &str,
    description: Option<&str>,
) -> Result<Offer, StoreError> {
    let exists: i64 = registers::table
        .filter(registers::name.eq(name))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(StoreError::RegisterNotFound(name.to_string()));
    }
    let description = description.unwrap_or(name);
    let updated = diesel::update(offers::table.find(name))
        .set(offers::description.eq(description))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(offers::table)
            .values(OfferRow {
                register_name: name.to_string(),
                slice_uuid: Uuid::new_v4().to_string(),
                description: description.to_string(),
                offered_at: now(),
            })
            .execute(conn)?;
    }
    offers::table
        .find(name)
        .select(OfferRow::as_select())
        .first(conn)?
        .into_offer()
}

/// Withdraws the offer of `name`; `NotFound` when it was not offered.
pub(crate) fn unoffer(conn: &mut AnyConnection, name: &str) -> Result<(), StoreError> {
    match diesel::delete(offers::table.find(name)).execute(conn)? {
        0 => Err(StoreError::NotFound(format!(
            "register '{name}' is not offered"
        ))),
        _ => Ok(()),
    }
}

/// The offered registers, by name.
pub(crate) fn offers(conn: &mut AnyConnection) -> Result<Vec<Offer>, StoreError> {
    let rows: Vec<OfferRow> = offers::table
        .order(offers::register_name.asc())
        .select(OfferRow::as_select())
        .load(conn)?;
    rows.into_iter().map(OfferRow::into_offer).collect()
}
