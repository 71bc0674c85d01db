//! The typed plan: built from a valid document, written back as XML.
//!
//! Optional containers whose XSD content needs at least one child (`Pools`, `Slices`,
//! `Subscriptions`, `DeliveryProfiles`) are plain `Vec`s: empty means the element is absent,
//! which keeps the model and the document in one-to-one correspondence. `Links` may be
//! present and empty, so it is an `Option`. Enumerated values (`slicetype`, `level`, `role`)
//! stay strings: the XSD is their single definition and validation guarantees them.

use std::fmt;

use uuid::Uuid;

use crate::error::Error;

/// A plan's identity: `Plan/@uuid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlanId(pub Uuid);

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hyphenated lowercase: the form the schema's uuid type accepts.
        write!(f, "{}", self.0.hyphenated())
    }
}

/// A whole plan document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `@uuid`; absent (or all-zero) only in a fragment.
    pub uuid: Option<PlanId>,
    /// `@description`.
    pub description: String,
    /// The data owner's side.
    pub primary: Primary,
    /// What the secondary subscribes to; `None` in a fragment.
    pub communal: Option<Communal>,
    /// The receiver's side; `None` in a fragment.
    pub secondary: Option<Secondary>,
}

/// The data owner: its node and the pools of slices it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primary {
    /// `@uuid` of the primary node.
    pub uuid: Uuid,
    /// `@description`.
    pub description: String,
    /// The software instance.
    pub instance: Instance,
    /// Who controls the node.
    pub controller: Controller,
    /// Node-level links.
    pub links: Option<Links>,
    /// Pools of slices; empty means no `Pools` element.
    pub pools: Vec<Pool>,
}

/// The receiver: its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secondary {
    /// `@uuid` of the secondary node.
    pub uuid: Uuid,
    /// `@description`.
    pub description: String,
    /// The software instance.
    pub instance: Instance,
    /// Who controls the node.
    pub controller: Controller,
    /// Node-level links.
    pub links: Option<Links>,
}

/// A running software instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `@uuid`.
    pub uuid: Uuid,
    /// The software.
    pub software: Software,
    /// What it can do.
    pub capability: Capability,
}

/// Software name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Software {
    /// `@description` (at most 255 characters).
    pub description: String,
    /// `@version` (at most 40 characters).
    pub version: String,
}

/// The Sandpiper capability level and the node's response endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    /// `@level`: `1-1`, `1-2`, `2` or `3`.
    pub level: Option<String>,
    /// `Response` elements.
    pub responses: Vec<Response>,
}

/// An endpoint of the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `@uri`.
    pub uri: String,
    /// `@role`: `All`, `Synchronization` or `Authentication`.
    pub role: Option<String>,
    /// `@description`.
    pub description: Option<String>,
}

/// The organisation controlling a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// `@uuid`.
    pub uuid: Uuid,
    /// `@description`.
    pub description: String,
    /// Its administrator.
    pub admin: Admin,
}

/// An administrator's contact details.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Admin {
    /// `@contact`.
    pub contact: Option<String>,
    /// `@email`.
    pub email: Option<String>,
}

/// A link group: unique links, then multi links.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Links {
    /// `UniqueLink` elements.
    pub unique: Vec<UniqueLink>,
    /// `MultiLink` elements.
    pub multi: Vec<MultiLink>,
}

/// One key field with one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueLink {
    /// `@uuid`.
    pub uuid: Uuid,
    /// `@keyfield`.
    pub keyfield: String,
    /// `@keyvalue`.
    pub keyvalue: String,
    /// `@description`.
    pub description: Option<String>,
}

/// One key field with several values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiLink {
    /// `@keyfield`.
    pub keyfield: String,
    /// At least one entry.
    pub entries: Vec<MultiLinkEntry>,
}

/// One value of a [`MultiLink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiLinkEntry {
    /// `@uuid`.
    pub uuid: Uuid,
    /// `@keyvalue`.
    pub keyvalue: String,
    /// `@description`.
    pub description: Option<String>,
}

/// A pool of slices offered by the primary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// `@uuid`.
    pub uuid: Uuid,
    /// `@description`.
    pub description: String,
    /// Pool-level links.
    pub links: Option<Links>,
    /// Slices; empty means no `Slices` element.
    pub slices: Vec<Slice>,
}

/// A unit of subscription: here usually a register or one of its indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// `@uuid`.
    pub uuid: Uuid,
    /// `@description`.
    pub description: String,
    /// `@slicetype`, one of the schema's `SliceTypes`.
    pub slice_type: String,
    /// `@filename`.
    pub filename: Option<String>,
    /// Slice links; a register slice names its register here.
    pub links: Option<Links>,
}

/// The part both partners share: subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Communal {
    /// Subscriptions; empty means no `Subscriptions` element.
    pub subscriptions: Vec<Subscription>,
}

/// The secondary's subscription to one slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `@uuid`.
    pub uuid: Uuid,
    /// `@sliceuuid`: the subscribed slice of the primary.
    pub slice_uuid: Option<Uuid>,
    /// Delivery profiles; empty means no `DeliveryProfiles` element.
    pub delivery_profiles: Vec<DeliveryProfile>,
}

/// A delivery profile reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryProfile {
    /// `@uuid`.
    pub uuid: Uuid,
}

/// A slice that carries a register (or one index of it), as the primary offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterSlice {
    /// The slice's `@uuid`.
    pub slice_uuid: Uuid,
    /// The slice's `@description`.
    pub description: String,
    /// The register's name (`UniqueLink keyfield="register"`).
    pub register: String,
    /// For an index slice, the index name (`UniqueLink keyfield="index"`).
    pub index: Option<String>,
    /// The verifier key of the log's signed checkpoints (`UniqueLink
    /// keyfield="checkpoint-key"`), as the primary offers it; `None` in plans without keys.
    pub checkpoint_key: Option<String>,
}

/// `keyfield` of a register slice's link that names its register.
pub const REGISTER_FIELD: &str = "register";
/// `keyfield` of an index slice's link that names its index.
pub const INDEX_FIELD: &str = "index";
/// `keyfield` of a register slice's link that carries its log's checkpoint verifier key.
pub const CHECKPOINT_KEY_FIELD: &str = "checkpoint-key";
/// `keyfield` of the Secondary's link that carries its mirror cosigner verifier key.
pub const COSIGNER_KEY_FIELD: &str = "cosigner-key";

impl Links {
    /// The value of the `UniqueLink` with this keyfield.
    pub fn unique_value(&self, keyfield: &str) -> Option<&str> {
        self.unique
            .iter()
            .find(|u| u.keyfield == keyfield)
            .map(|u| u.keyvalue.as_str())
    }
}

impl Secondary {
    /// The secondary's mirror cosigner verifier key (`UniqueLink keyfield="cosigner-key"`
    /// in its Links), if its document carries one.
    pub fn cosigner_key(&self) -> Option<&str> {
        self.links.as_ref()?.unique_value(COSIGNER_KEY_FIELD)
    }
}

impl Slice {
    /// A `register` or `register-index` slice naming its register in its links.
    pub fn for_register(register: &RegisterSlice, new_id: &mut impl FnMut() -> Uuid) -> Slice {
        let link = |keyfield: &str, keyvalue: &str, id: Uuid| UniqueLink {
            uuid: id,
            keyfield: keyfield.to_string(),
            keyvalue: keyvalue.to_string(),
            description: None,
        };
        let mut unique = vec![link(REGISTER_FIELD, &register.register, new_id())];
        if let Some(index) = &register.index {
            unique.push(link(INDEX_FIELD, index, new_id()));
        }
        if let Some(key) = &register.checkpoint_key {
            unique.push(link(CHECKPOINT_KEY_FIELD, key, new_id()));
        }
        Slice {
            uuid: register.slice_uuid,
            description: register.description.clone(),
            slice_type: if register.index.is_some() {
                "register-index"
            } else {
                "register"
            }
            .to_string(),
            filename: None,
            links: Some(Links {
                unique,
                multi: Vec::new(),
            }),
        }
    }

    /// The register (and index) this slice carries, if it is a register slice.
    pub fn register(&self) -> Option<RegisterSlice> {
        let link = |keyfield: &str| {
            self.links
                .as_ref()
                .and_then(|l| l.unique_value(keyfield))
                .map(str::to_string)
        };
        let index = match self.slice_type.as_str() {
            "register" => None,
            "register-index" => Some(link(INDEX_FIELD)?),
            _ => return None,
        };
        Some(RegisterSlice {
            slice_uuid: self.uuid,
            description: self.description.clone(),
            register: link(REGISTER_FIELD)?,
            index,
            checkpoint_key: link(CHECKPOINT_KEY_FIELD),
        })
    }
}

impl Plan {
    /// A fragment: a plan holding only the primary's side (an invoked stub).
    pub fn fragment(
        uuid: Option<PlanId>,
        description: impl Into<String>,
        primary: Primary,
    ) -> Plan {
        Plan {
            uuid,
            description: description.into(),
            primary,
            communal: None,
            secondary: None,
        }
    }

    /// Whether this is a fragment (no Secondary and no Communal yet).
    pub fn is_fragment(&self) -> bool {
        self.secondary.is_none() && self.communal.is_none()
    }

    /// Complete a fragment with the secondary's side and its subscriptions.
    ///
    /// The plan must have a real UUID by now, and every subscription must name a slice of the
    /// primary; otherwise the fragment is returned unchanged inside the error.
    pub fn complete(
        mut self,
        secondary: Secondary,
        subscriptions: Vec<Subscription>,
    ) -> Result<Plan, Error> {
        if !self.is_fragment() {
            return Err(Error::Document(
                "the plan already has a Secondary or Communal part".into(),
            ));
        }
        if self.uuid.is_none_or(|id| id.0.is_nil()) {
            return Err(Error::Document(
                "a plan needs its uuid before it can be completed".into(),
            ));
        }
        for subscription in &subscriptions {
            if let Some(slice) = subscription.slice_uuid {
                if self.slice(slice).is_none() {
                    return Err(Error::Document(format!(
                        "subscription {} names no slice of the primary",
                        subscription.uuid
                    )));
                }
            }
        }
        self.secondary = Some(secondary);
        self.communal = Some(Communal { subscriptions });
        Ok(self)
    }

    /// The primary's slice with this UUID.
    pub fn slice(&self, uuid: Uuid) -> Option<&Slice> {
        self.slices().find(|s| s.uuid == uuid)
    }

    /// All slices of the primary, pool by pool.
    pub fn slices(&self) -> impl Iterator<Item = &Slice> {
        self.primary.pools.iter().flat_map(|p| p.slices.iter())
    }

    /// The register slices of the primary: the registers the caller must check exist.
    pub fn register_slices(&self) -> Vec<RegisterSlice> {
        self.slices().filter_map(Slice::register).collect()
    }
}
