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

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::plans::from_unix;
use crate::schema::{node_settings, offers, registers};
use crate::store::Store;

/// This node's identity in plan documents (plans.md §1: Primary or Secondary, Instance,
/// Controller, Pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// `Primary/@uuid` or `Secondary/@uuid`.
    pub node_uuid: Uuid,
    /// Their `@description`.
    pub description: String,
    /// `Instance/@uuid`.
    pub instance_uuid: Uuid,
    /// `Controller/@uuid`.
    pub controller_uuid: Uuid,
    /// `Controller/@description`.
    pub controller_description: String,
    /// `Admin/@contact`, if set.
    pub admin_contact: Option<String>,
    /// `Admin/@email`, if set.
    pub admin_email: Option<String>,
    /// The `Pool/@uuid` whose slices are the offered registers.
    pub pool_uuid: Uuid,
}

/// A register offered to partners as a slice of this node's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The register.
    pub register: String,
    /// Its slice UUID in plan documents.
    pub slice_uuid: Uuid,
    /// The slice's description.
    pub description: String,
    /// When it was offered.
    pub offered_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = offers)]
struct OfferRow {
    register_name: String,
    slice_uuid: String,
    description: String,
    offered_at: i64,
}

impl OfferRow {
    fn into_offer(self) -> Result<Offer, StoreError> {
        Ok(Offer {
            slice_uuid: Uuid::parse_str(&self.slice_uuid)
                .map_err(|e| StoreError::Corrupt(format!("offer slice uuid: {e}")))?,
            offered_at: from_unix(self.offered_at)?,
            register: self.register_name,
            description: self.description,
        })
    }
}

/// Settings the identity is made of, with how a missing one is first set.
const UUID_SETTINGS: [&str; 4] = ["node_uuid", "instance_uuid", "controller_uuid", "pool_uuid"];
const DESCRIPTION: &str = "description";
const CONTROLLER_DESCRIPTION: &str = "controller_description";
const ADMIN_CONTACT: &str = "admin_contact";
const ADMIN_EMAIL: &str = "admin_email";
const TOKEN_SECRET: &str = "token_secret";

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

impl Store {
    /// This node's identity, created with fresh UUIDs the first time any process asks.
    pub fn node(&self) -> Result<NodeIdentity, StoreError> {
        let mut pooled = self.conn()?;
        let conn: &mut AnyConnection = &mut pooled;
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

    /// Changes the descriptive parts of this node's identity (`None` leaves a part as it is;
    /// an empty contact or email removes it). The UUIDs never change.
    pub fn set_node_details(
        &self,
        description: Option<&str>,
        contact: Option<&str>,
        email: Option<&str>,
    ) -> Result<NodeIdentity, StoreError> {
        self.node()?;
        let mut pooled = self.conn()?;
        let conn: &mut AnyConnection = &mut pooled;
        conn.transaction::<_, StoreError, _>(|conn| {
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
        })?;
        self.node()
    }

    /// The secret that signs tokens on an embedded installation: 32 random bytes, generated
    /// the first time and kept in the database (hex). Deployments on PostgreSQL configure
    /// their own secret instead.
    pub fn generated_token_secret(&self) -> Result<Vec<u8>, StoreError> {
        let mut fresh = [0u8; 32];
        OsRng.fill_bytes(&mut fresh);
        let mut conn = self.conn()?;
        insert_if_absent(&mut conn, TOKEN_SECRET, &hex::encode(fresh))?;
        let stored = setting(&mut conn, TOKEN_SECRET)?
            .ok_or_else(|| StoreError::Corrupt("the token secret is missing".into()))?;
        hex::decode(stored).map_err(|e| StoreError::Corrupt(format!("the token secret: {e}")))
    }

    /// Offers the register `name` to partners as a slice of this node's pool (with
    /// `description`, or the register's name). Offering it again only changes the
    /// description. `RegisterNotFound` for an unknown register.
    pub fn offer_register(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<Offer, StoreError> {
        let mut pooled = self.conn()?;
        let conn: &mut AnyConnection = &mut pooled;
        conn.transaction::<_, StoreError, _>(|conn| {
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
                        offered_at: crate::store::now(),
                    })
                    .execute(conn)?;
            }
            offers::table
                .find(name)
                .select(OfferRow::as_select())
                .first(conn)?
                .into_offer()
        })
    }

    /// Withdraws the offer of `name`. Plans already approved keep naming its slice, but
    /// stubs no longer list it. `NotFound` when it was not offered.
    pub fn unoffer_register(&self, name: &str) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        match diesel::delete(offers::table.find(name)).execute(&mut *conn)? {
            0 => Err(StoreError::NotFound(format!(
                "register '{name}' is not offered"
            ))),
            _ => Ok(()),
        }
    }

    /// The offered registers, by name.
    pub fn offers(&self) -> Result<Vec<Offer>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<OfferRow> = offers::table
            .order(offers::register_name.asc())
            .select(OfferRow::as_select())
            .load(&mut *conn)?;
        rows.into_iter().map(OfferRow::into_offer).collect()
    }
}
