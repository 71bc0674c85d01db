//! Rows: what the tables hold, kept apart from the API's values (`model`) and from
//! register-core's and plan-core's types.
//!
//! Every diesel `Queryable`, `Insertable` and `QueryableByName` struct of the crate is here,
//! with the conversions between rows and values: the stored codes of logs, roles and actors,
//! hashes as bytes, times as Unix seconds. Nothing here runs a query.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, SmallInt, Text};
use plan_core::{Actor, ConversationRole, DataRole, Plan, PlanId, PlanRecord};
use register_core::{Digest, Entry, ItemHash, LogKind, Timestamp};
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{
    approved_on, status_on, Offer, RegisterSummary, Role, Subscription, User, WriterScope,
    WriterToken,
};
use crate::schema::{
    entries, offers, plan_transitions, plans, registers, subscriptions, users, writer_tokens,
};

/// The stored code of a log.
pub(crate) fn log_code(log: LogKind) -> i16 {
    match log {
        LogKind::User => 0,
        LogKind::System => 1,
    }
}

/// A count or number as stored (SQL integers are signed; beyond `i64::MAX` saturates).
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored count or number (a negative one, which the store never writes, reads as 0).
pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// A stored 32-byte hash; any other length is `Corrupt`.
pub(crate) fn digest(bytes: &[u8]) -> Result<Digest, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(Digest)
        .map_err(|_| StoreError::Corrupt(format!("a hash of {} bytes", bytes.len())))
}

/// An item list as stored: the hashes back to back.
pub(crate) fn encode_hashes(hashes: &[ItemHash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0 .0).collect()
}

/// The inverse of [`encode_hashes`]; a length that is not a multiple of 32 is `Corrupt`.
pub(crate) fn decode_hashes(bytes: &[u8]) -> Result<Vec<ItemHash>, StoreError> {
    if bytes.len() % 32 != 0 {
        return Err(StoreError::Corrupt(format!(
            "an item list of {} bytes",
            bytes.len()
        )));
    }
    bytes
        .chunks_exact(32)
        .map(|chunk| digest(chunk).map(ItemHash))
        .collect()
}

/// The current time as stored: Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Unix seconds of a time (sub-second parts dropped).
pub(crate) fn to_unix(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// The time of stored Unix seconds.
pub(crate) fn from_unix(seconds: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {seconds}")))
}

// Registers and their logs.

/// A `registers` row: a register's sizes, roots and counts, and what it mirrors if anything.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registers)]
pub(crate) struct RegisterRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub user_size: i64,
    pub system_size: i64,
    pub record_count: i64,
    pub item_count: i64,
    pub user_root: Vec<u8>,
    pub system_root: Vec<u8>,
    pub mirror_partner: Option<String>,
    pub mirror_plan: Option<String>,
    pub mirror_slice: Option<String>,
}

impl RegisterRow {
    /// The register's summary as the API serves it.
    pub(crate) fn into_summary(self) -> Result<RegisterSummary, StoreError> {
        let mirror_of = match (self.mirror_partner, self.mirror_plan, self.mirror_slice) {
            (Some(partner), Some(plan), Some(slice)) => Some((partner, plan, slice)),
            _ => None,
        };
        Ok(RegisterSummary {
            name: self.name,
            total_entries: to_u64(self.user_size),
            system_entries: to_u64(self.system_size),
            total_records: to_u64(self.record_count),
            total_items: to_u64(self.item_count),
            root: digest(&self.user_root)?,
            system_root: digest(&self.system_root)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            mirror_of,
        })
    }
}

/// A new, empty register.
#[derive(Debug, Insertable)]
#[diesel(table_name = registers)]
pub(crate) struct NewRegister<'a> {
    pub id: i64,
    pub name: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
    pub user_root: Vec<u8>,
    pub system_root: Vec<u8>,
}

/// An `entries` row (an entry of a register's user or system log).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = entries)]
pub(crate) struct EntryRow {
    pub number: i64,
    pub timestamp: i64,
    pub key: String,
    pub item_hashes: Vec<u8>,
}

impl EntryRow {
    /// The entry (its index entry number is its entry number).
    pub(crate) fn into_entry(self) -> Result<Entry, StoreError> {
        let timestamp = Timestamp::from_unix_seconds(self.timestamp)
            .ok_or_else(|| StoreError::Corrupt(format!("timestamp {}", self.timestamp)))?;
        Ok(Entry {
            entry_number: to_u64(self.number),
            index_entry_number: to_u64(self.number),
            timestamp,
            key: self.key,
            item_hashes: decode_hashes(&self.item_hashes)?,
        })
    }
}

/// An `index_entries` row (selected with `index_logs::INDEX_COLUMNS`, or by name).
#[derive(Queryable, QueryableByName)]
pub(crate) struct IndexEntryRow {
    #[diesel(sql_type = BigInt)]
    pub index_entry_number: i64,
    #[diesel(sql_type = BigInt)]
    pub entry_number: i64,
    #[diesel(sql_type = BigInt)]
    pub timestamp: i64,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Binary)]
    pub item_hashes: Vec<u8>,
}

impl IndexEntryRow {
    /// The index entry.
    pub(crate) fn into_entry(self) -> Result<Entry, StoreError> {
        Ok(Entry {
            entry_number: to_u64(self.entry_number),
            index_entry_number: to_u64(self.index_entry_number),
            timestamp: Timestamp::from_unix_seconds(self.timestamp)
                .ok_or_else(|| StoreError::Corrupt(format!("timestamp {}", self.timestamp)))?,
            key: self.key,
            item_hashes: decode_hashes(&self.item_hashes)?,
        })
    }
}

/// An index log's summary row.
#[derive(Debug, Queryable)]
pub(crate) struct IndexLogRow {
    pub size: i64,
    pub root: Vec<u8>,
    pub record_count: i64,
    pub item_count: i64,
    pub updated_at: i64,
}

/// A stored Merkle node, as the PostgreSQL batch lookup returns it.
#[derive(QueryableByName)]
pub(crate) struct NodeRow {
    #[diesel(sql_type = SmallInt)]
    pub level: i16,
    #[diesel(sql_type = BigInt)]
    pub idx: i64,
    #[diesel(sql_type = Binary)]
    pub hash: Vec<u8>,
}

/// A record's key, as the facet query returns it.
#[derive(QueryableByName)]
pub(crate) struct KeyRow {
    #[diesel(sql_type = Text)]
    pub key: String,
}

/// One item of a current record (`record_items`), as the index member lookup returns it.
#[derive(QueryableByName)]
pub(crate) struct MemberRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Binary)]
    pub hash: Vec<u8>,
}

// Accounts.

/// A `users` row. Deliberately not `Debug`: it holds the hash.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

impl UserRow {
    /// The account without its hash; an unknown role is `Corrupt`.
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            StoreError::Corrupt(format!("user '{}' has role '{}'", self.name, self.role))
        })?;
        Ok(User {
            created_at: from_unix(self.created_at)?,
            name: self.name,
            role,
        })
    }
}

/// A `writer_tokens` row. Deliberately not `Debug`: it holds the hash.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = writer_tokens)]
pub(crate) struct WriterTokenRow {
    pub id: i64,
    pub name: String,
    pub secret_hash: Vec<u8>,
    pub scope: String,
    pub register_name: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What a check reads of a `writer_tokens` row (not the hash it was found by).
#[derive(Queryable, Selectable)]
#[diesel(table_name = writer_tokens)]
pub(crate) struct TokenCheckRow {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub register_name: Option<String>,
    pub last_used_at: Option<i64>,
}

/// A writer token's scope as stored: `admin` without a register, or `register` with one.
pub(crate) fn scope_columns(scope: &WriterScope) -> (&'static str, Option<String>) {
    match scope {
        WriterScope::Admin => ("admin", None),
        WriterScope::Register(name) => ("register", Some(name.clone())),
    }
}

/// The inverse of [`scope_columns`]; any other pair is `Corrupt` (never a wider scope).
pub(crate) fn writer_scope(
    token: &str,
    scope: &str,
    register: Option<String>,
) -> Result<WriterScope, StoreError> {
    match (scope, register) {
        ("admin", None) => Ok(WriterScope::Admin),
        ("register", Some(name)) => Ok(WriterScope::Register(name)),
        (scope, _) => Err(StoreError::Corrupt(format!(
            "writer token '{token}' has scope '{scope}'"
        ))),
    }
}

impl WriterTokenRow {
    /// The token without its hash.
    pub(crate) fn into_token(self) -> Result<WriterToken, StoreError> {
        Ok(WriterToken {
            scope: writer_scope(&self.name, &self.scope, self.register_name)?,
            created_at: from_unix(self.created_at)?,
            last_used_at: self.last_used_at.map(from_unix).transpose()?,
            revoked_at: self.revoked_at.map(from_unix).transpose()?,
            name: self.name,
        })
    }
}

// This node's offers.

/// An `offers` row: a register offered as a slice.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = offers)]
pub(crate) struct OfferRow {
    pub register_name: String,
    pub slice_uuid: String,
    pub description: String,
    pub offered_at: i64,
}

impl OfferRow {
    /// The offer; a malformed slice UUID is `Corrupt`.
    pub(crate) fn into_offer(self) -> Result<Offer, StoreError> {
        Ok(Offer {
            slice_uuid: Uuid::parse_str(&self.slice_uuid)
                .map_err(|e| StoreError::Corrupt(format!("offer slice uuid: {e}")))?,
            offered_at: from_unix(self.offered_at)?,
            register: self.register_name,
            description: self.description,
        })
    }
}

// Subscriptions.

/// A `subscriptions` row: a subscribed slice and its sync bookkeeping.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = subscriptions)]
pub(crate) struct SubscriptionRow {
    pub plan_uuid: String,
    pub slice_uuid: String,
    pub remote: String,
    pub register_name: String,
    pub last_size: i64,
    pub last_root: Option<Vec<u8>>,
    pub last_success: Option<i64>,
    pub last_error: Option<String>,
    pub updated_at: i64,
    pub primary_size: Option<i64>,
    pub checkpoint_key: Option<String>,
    pub cosigner_key: Option<String>,
}

impl SubscriptionRow {
    /// The subscription; malformed UUIDs, hashes or times are `Corrupt`.
    pub(crate) fn into_subscription(self) -> Result<Subscription, StoreError> {
        let uuid = |s: &str| {
            Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("subscription uuid: {e}")))
        };
        Ok(Subscription {
            plan_uuid: PlanId(uuid(&self.plan_uuid)?),
            slice_uuid: uuid(&self.slice_uuid)?,
            remote: self.remote,
            register_name: self.register_name,
            last_size: to_u64(self.last_size),
            last_root: self.last_root.as_deref().map(digest).transpose()?,
            last_success: self.last_success.map(from_unix).transpose()?,
            last_error: self.last_error,
            updated_at: from_unix(self.updated_at)?,
            primary_size: self.primary_size.map(to_u64),
            checkpoint_key: self.checkpoint_key,
            cosigner_key: self.cosigner_key,
        })
    }
}

// Plans.

/// A `plans` row: the plan's parts, and status columns derived from its transitions.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = plans)]
pub(crate) struct PlanRow {
    pub uuid: String,
    pub replaces_uuid: Option<String>,
    pub owner: String,
    pub initiator_role: String,
    pub status: String,
    pub status_message: Option<String>,
    pub status_on: i64,
    pub document: String,
    pub primary_approved_on: Option<i64>,
    pub secondary_approved_on: Option<i64>,
    pub created_at: i64,
}

/// A `plan_transitions` row: the status a transition led to, its message, actor and time.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_transitions)]
pub(crate) struct TransitionRow {
    pub plan_uuid: String,
    pub seq: i64,
    pub status: String,
    pub status_message: Option<String>,
    pub actor: String,
    pub at: i64,
}

/// A data role as stored: `primary` or `secondary`.
pub(crate) fn data_role_str(role: DataRole) -> &'static str {
    match role {
        DataRole::Primary => "primary",
        DataRole::Secondary => "secondary",
    }
}

/// The inverse of [`data_role_str`].
pub(crate) fn parse_data_role(s: &str) -> Option<DataRole> {
    match s {
        "primary" => Some(DataRole::Primary),
        "secondary" => Some(DataRole::Secondary),
        _ => None,
    }
}

/// `initiator/primary`, `respondent/secondary`, …
fn actor_str(actor: Actor) -> String {
    let conversation = match actor.conversation {
        ConversationRole::Initiator => "initiator",
        ConversationRole::Respondent => "respondent",
    };
    format!("{conversation}/{}", data_role_str(actor.data))
}

/// The inverse of [`actor_str`].
pub(crate) fn parse_actor(s: &str) -> Option<Actor> {
    let (conversation, data) = s.split_once('/')?;
    let conversation = match conversation {
        "initiator" => ConversationRole::Initiator,
        "respondent" => ConversationRole::Respondent,
        _ => return None,
    };
    Some(Actor {
        conversation,
        data: parse_data_role(data)?,
    })
}

/// The `plans` row of a record: its parts and the derived status columns.
pub(crate) fn plan_row(record: &PlanRecord, owner: &str, replaces: Option<PlanId>) -> PlanRow {
    PlanRow {
        uuid: record.id().to_string(),
        replaces_uuid: replaces.map(|id| id.to_string()),
        owner: owner.to_string(),
        initiator_role: data_role_str(record.initiator_role()).to_string(),
        status: record.status().as_str().to_string(),
        status_message: record.status_message().map(str::to_string),
        status_on: to_unix(status_on(record)),
        document: record.document().map(Plan::to_xml).unwrap_or_default(),
        primary_approved_on: approved_on(record, DataRole::Primary).map(to_unix),
        secondary_approved_on: approved_on(record, DataRole::Secondary).map(to_unix),
        created_at: to_unix(record.created_at()),
    }
}

/// The `plan_transitions` rows of a record's history, numbered from 1.
pub(crate) fn transition_rows(record: &PlanRecord) -> Vec<TransitionRow> {
    let uuid = record.id().to_string();
    record
        .history()
        .iter()
        .zip(1..)
        .map(|(t, seq)| TransitionRow {
            plan_uuid: uuid.clone(),
            seq,
            status: t.to.as_str().to_string(),
            status_message: t.status_message.clone(),
            actor: actor_str(t.by),
            at: to_unix(t.at),
        })
        .collect()
}
