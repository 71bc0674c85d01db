//! Shared fixtures: a deterministic plan built through the model API.
#![allow(dead_code)]

use plan_core::{
    Admin, Capability, Controller, Instance, Links, Plan, PlanId, Pool, Primary, RegisterSlice,
    Secondary, Slice, Software, Subscription, UniqueLink, COSIGNER_KEY_FIELD,
};
use uuid::Uuid;

/// Deterministic version-4-shaped UUIDs: `n` in the last group.
pub fn id(n: u64) -> Uuid {
    Uuid::parse_str(&format!("3b241101-e2bb-4255-8caf-{n:012x}")).expect("well-formed uuid")
}

/// An id source counting up from `start`.
pub fn ids(start: u64) -> impl FnMut() -> Uuid {
    let mut next = start;
    move || {
        next += 1;
        id(next)
    }
}

pub fn node(n: u64) -> (Instance, Controller) {
    (
        Instance {
            uuid: id(n),
            software: Software {
                description: "api-actix".into(),
                version: "0.1.0".into(),
            },
            capability: Capability {
                level: Some("2".into()),
                responses: Vec::new(),
            },
        },
        Controller {
            uuid: id(n + 1),
            description: "Registers office".into(),
            admin: Admin {
                contact: Some("Ada".into()),
                email: Some("ada@example.org".into()),
            },
        },
    )
}

/// The verifier key of checkpoints.md §7's country log.
pub const COUNTRY_KEY: &str =
    "registers.example/registers/country+038596e7+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// The mirror cosigner key of checkpoints.md §7.
pub const MIRROR_KEY: &str =
    "partner.example/mirror+c4bef1eb+BHm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk";

/// A Primary offering `country` and its `by-name` index.
pub fn primary() -> Primary {
    let (instance, controller) = node(10);
    let mut new_id = ids(1000);
    let registers = [
        RegisterSlice {
            slice_uuid: id(20),
            description: "Countries".into(),
            register: "country".into(),
            index: None,
            checkpoint_key: Some(COUNTRY_KEY.into()),
        },
        RegisterSlice {
            slice_uuid: id(21),
            description: "Countries by name".into(),
            register: "country".into(),
            index: Some("by-name".into()),
            checkpoint_key: None,
        },
    ];
    Primary {
        uuid: id(2),
        description: "Registers office".into(),
        instance,
        controller,
        links: None,
        pools: vec![Pool {
            uuid: id(3),
            description: "Public registers".into(),
            links: None,
            slices: registers
                .iter()
                .map(|r| Slice::for_register(r, &mut new_id))
                .collect(),
        }],
    }
}

pub fn secondary() -> Secondary {
    let (instance, controller) = node(30);
    Secondary {
        uuid: id(40),
        description: "Partner mirror".into(),
        instance,
        controller,
        links: Some(Links {
            unique: vec![UniqueLink {
                uuid: id(41),
                keyfield: COSIGNER_KEY_FIELD.into(),
                keyvalue: MIRROR_KEY.into(),
                description: None,
            }],
            multi: Vec::new(),
        }),
    }
}

pub fn fragment() -> Plan {
    Plan::fragment(
        Some(PlanId(id(1))),
        "Country register for the partner",
        primary(),
    )
}

pub fn complete() -> Plan {
    let subscription = Subscription {
        uuid: id(50),
        slice_uuid: Some(id(20)),
        delivery_profiles: Vec::new(),
    };
    fragment()
        .complete(secondary(), vec![subscription])
        .expect("complete the fragment")
}
