//! This node as plan documents describe it: its Primary domain (the registers it offers, as
//! the slices of one pool) when it is the data owner, and its Secondary side when it is the
//! receiver. The server builds stubs from it; the `remote plan request` command fills the
//! Secondary part of a remote primary's stub from it.

use plan_core::{
    Admin, Capability, Controller, Instance, Links, Plan, PlanId, Pool, Primary, RegisterSlice,
    Secondary, Slice, Software, Subscription, UniqueLink, COSIGNER_KEY_FIELD,
};
use store_diesel::error::StoreError;
use store_diesel::node::{NodeIdentity, Offer};
use store_diesel::store::{NodeKeys, Store};
use uuid::Uuid;

/// Why a change to this node's identity or offers, or a subscription request, was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Plan documents naming this node would fail the plan schema (each problem as
    /// `PATH: message`); nothing was changed.
    #[error(
        "refused, nothing changed: plan documents naming this node would not be valid:\n  {}",
        .0.join("\n  ")
    )]
    InvalidDomain(Vec<String>),
    /// A register the partner does not offer was asked for.
    #[error("{remote} does not offer register '{register}'; it offers: {offered}")]
    NotOffered {
        /// The partner's server.
        remote: String,
        /// The register asked for.
        register: String,
        /// What it offers, comma-separated, or `none`.
        offered: String,
    },
    /// A slice the partner's stub does not have was asked for.
    #[error("{remote} offers no slice {slice}")]
    NoSlice {
        /// The partner's server.
        remote: String,
        /// The slice asked for.
        slice: Uuid,
    },
    /// A slice asked for is not a register slice.
    #[error("slice {slice} of {remote} is a '{slice_type}' slice, not a register")]
    NotARegister {
        /// The partner's server.
        remote: String,
        /// The slice.
        slice: Uuid,
        /// Its type.
        slice_type: String,
    },
    /// plan-core refused the completed document.
    #[error(transparent)]
    Plan(#[from] plan_core::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn instance(node: &NodeIdentity) -> Instance {
    Instance {
        uuid: node.instance_uuid,
        software: Software {
            description: "api-actix register server".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        capability: Capability {
            level: None,
            responses: Vec::new(),
        },
    }
}

fn controller(node: &NodeIdentity) -> Controller {
    Controller {
        uuid: node.controller_uuid,
        description: node.controller_description.clone(),
        admin: Admin {
            contact: node.admin_contact.clone(),
            email: node.admin_email.clone(),
        },
    }
}

/// This node as the primary: one pool whose slices are the offered registers (no pool when
/// nothing is offered, as the schema wants at least one slice in a pool). With `keys`, each
/// slice carries its log's checkpoint verifier key (`UniqueLink keyfield="checkpoint-key"`),
/// which the plan pins.
pub fn primary(node: &NodeIdentity, offers: &[Offer], keys: Option<&NodeKeys>) -> Primary {
    let slices: Vec<Slice> = offers
        .iter()
        .map(|offer| {
            let register = RegisterSlice {
                slice_uuid: offer.slice_uuid,
                description: offer.description.clone(),
                register: offer.register.clone(),
                index: None,
                checkpoint_key: keys
                    .and_then(|k| k.checkpoint_key(&offer.register, None).ok())
                    .map(|k| k.to_string()),
            };
            Slice::for_register(&register, &mut Uuid::new_v4)
        })
        .collect();
    let pools = if slices.is_empty() {
        Vec::new()
    } else {
        vec![Pool {
            uuid: node.pool_uuid,
            description: format!("Registers offered by {}", node.description),
            links: None,
            slices,
        }]
    };
    Primary {
        uuid: node.node_uuid,
        description: node.description.clone(),
        instance: instance(node),
        controller: controller(node),
        links: None,
        pools,
    }
}

/// This node as the secondary. With `keys`, its Links carry its mirror cosigner verifier
/// key (`UniqueLink keyfield="cosigner-key"`, the key named `<origin>/mirror`), which the
/// plan pins.
pub fn secondary(node: &NodeIdentity, keys: Option<&NodeKeys>) -> Secondary {
    let cosigner = keys.and_then(|k| k.cosigner_key("mirror").ok());
    Secondary {
        uuid: node.node_uuid,
        description: node.description.clone(),
        instance: instance(node),
        controller: controller(node),
        links: cosigner.map(|key| Links {
            unique: vec![UniqueLink {
                uuid: Uuid::new_v4(),
                keyfield: COSIGNER_KEY_FIELD.to_string(),
                keyvalue: key.to_string(),
                description: Some("mirror cosigner verifier key".to_string()),
            }],
            multi: Vec::new(),
        }),
    }
}

/// Checks that this node's Primary domain with `offers` makes a valid plan document (the
/// schema bounds descriptions to 255 characters and wants an email to look like one), so that
/// an operator's change never leaves the server handing out stubs that fail the schema.
pub fn check_domain(
    node: &NodeIdentity,
    offers: &[Offer],
    keys: Option<&NodeKeys>,
) -> Result<(), IdentityError> {
    let stub = Plan::fragment(None, "check", primary(node, offers, keys));
    let problems: Vec<String> = plan_core::validate_plan(&stub.to_xml())
        .into_iter()
        .map(|d| format!("{}: {}", d.path, d.message))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(IdentityError::InvalidDomain(problems))
    }
}

/// Offers the register `name` as a slice (replacing an earlier offer of it), once the
/// resulting domain passed [`check_domain`].
pub fn offer(store: &Store, name: &str, description: Option<&str>) -> Result<Offer, IdentityError> {
    let mut offers = store.offers()?;
    offers.retain(|o| o.register != name);
    offers.push(Offer {
        register: name.to_string(),
        slice_uuid: Uuid::new_v4(),
        description: description.unwrap_or(name).to_string(),
        offered_at: chrono::Utc::now(),
    });
    check_domain(&store.node()?, &offers, store.keys())?;
    Ok(store.offer_register(name, description)?)
}

/// Changes the descriptive parts of this node's identity (an empty contact or email removes
/// it), once the resulting domain passed [`check_domain`].
pub fn set_details(
    store: &Store,
    description: Option<&str>,
    contact: Option<&str>,
    email: Option<&str>,
) -> Result<NodeIdentity, IdentityError> {
    let mut wanted = store.node()?;
    if let Some(d) = description {
        wanted.description = d.to_string();
    }
    let optional = |v: Option<&str>, now: Option<String>| match v {
        None => now,
        Some("") => None,
        Some(v) => Some(v.to_string()),
    };
    wanted.admin_contact = optional(contact, wanted.admin_contact.clone());
    wanted.admin_email = optional(email, wanted.admin_email.clone());
    check_domain(&wanted, &store.offers()?, store.keys())?;
    Ok(store.set_node_details(description, contact, email)?)
}

/// A slice this node subscribes to, and the local register that will mirror it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The local register (the partner's register name).
    pub register: String,
    /// The partner's slice.
    pub slice: Uuid,
    /// The new subscription's UUID.
    pub subscription: Uuid,
    /// The slice log's checkpoint verifier key, as the stub offers it.
    pub checkpoint_key: Option<String>,
}

/// A subscription of a plan the partner has that could not be recorded here.
#[derive(Debug, thiserror::Error)]
#[error(
    "plan {plan} is {status} at {remote}, but its subscription to slice {slice} could not be \
     recorded here"
)]
pub struct Unrecorded {
    /// The plan.
    pub plan: PlanId,
    /// Its status at the partner's server.
    pub status: String,
    /// The partner's server.
    pub remote: String,
    /// The slice subscribed to.
    pub slice: Uuid,
    /// Why.
    #[source]
    pub source: StoreError,
}

/// Records in the local store each subscription `plan` makes, proposed to `remote` where it
/// is now `status`, with the keys of the document proposed pinned: those are the ones the
/// partner approves.
pub fn record_subscriptions(
    store: &Store,
    id: PlanId,
    plan: &Plan,
    (remote, status): (&str, &str),
    wanted: &[Wanted],
) -> Result<(), Box<Unrecorded>> {
    let cosigner = plan.secondary.as_ref().and_then(|s| s.cosigner_key());
    for w in wanted {
        store
            .upsert_subscription(id, w.slice, remote, &w.register)
            .and_then(|()| {
                let checkpoint = w.checkpoint_key.as_deref();
                store.pin_subscription_keys(id, w.slice, checkpoint, cosigner)
            })
            .map_err(|source| {
                Box::new(Unrecorded {
                    plan: id,
                    status: status.to_string(),
                    remote: remote.to_string(),
                    slice: w.slice,
                    source,
                })
            })?;
    }
    Ok(())
}

/// Completes a partner's `stub` (from `remote`) as this node, the secondary (with its mirror
/// cosigner key when it has `keys`): one subscription per register named in `registers` and
/// per slice in `slices`, each once, in the order given. Returns the completed plan and what
/// it subscribes to.
pub fn subscribe(
    stub: Plan,
    node: &NodeIdentity,
    keys: Option<&NodeKeys>,
    remote: &str,
    registers: &[String],
    slices: &[Uuid],
) -> Result<(Plan, Vec<Wanted>), IdentityError> {
    let offered: Vec<RegisterSlice> = stub
        .register_slices()
        .into_iter()
        .filter(|s| s.index.is_none())
        .collect();
    let mut wanted: Vec<(Uuid, String)> = Vec::new();
    for name in registers {
        let slice = offered
            .iter()
            .find(|s| &s.register == name)
            .ok_or_else(|| {
                let names: Vec<&str> = offered.iter().map(|s| s.register.as_str()).collect();
                IdentityError::NotOffered {
                    remote: remote.to_string(),
                    register: name.clone(),
                    offered: if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    },
                }
            })?;
        wanted.push((slice.slice_uuid, slice.register.clone()));
    }
    for uuid in slices {
        let slice = stub.slice(*uuid).ok_or_else(|| IdentityError::NoSlice {
            remote: remote.to_string(),
            slice: *uuid,
        })?;
        let register = slice
            .register()
            .filter(|r| r.index.is_none())
            .ok_or_else(|| IdentityError::NotARegister {
                remote: remote.to_string(),
                slice: *uuid,
                slice_type: slice.slice_type.to_string(),
            })?;
        wanted.push((*uuid, register.register));
    }
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|(slice, _)| seen.insert(*slice));
    let wanted: Vec<Wanted> = wanted
        .into_iter()
        .map(|(slice, register)| Wanted {
            subscription: Uuid::new_v4(),
            checkpoint_key: stub
                .slice(slice)
                .and_then(Slice::register)
                .and_then(|r| r.checkpoint_key),
            slice,
            register,
        })
        .collect();
    let subscriptions = wanted
        .iter()
        .map(|w| Subscription {
            uuid: w.subscription,
            slice_uuid: Some(w.slice),
            delivery_profiles: Vec::new(),
        })
        .collect();
    let plan = stub.complete(secondary(node, keys), subscriptions)?;
    Ok((plan, wanted))
}
