//! This node as plan documents describe it: its Primary domain (the registers it offers, as
//! the slices of one pool) when it is the data owner, and its Secondary side when it is the
//! receiver. The server builds stubs from it; the `remote plan request` command fills the
//! Secondary part of a remote primary's stub from it.

use plan_core::{
    Admin, Capability, Controller, Instance, Pool, Primary, RegisterSlice, Secondary, Slice,
    Software,
};
use store_diesel::node::{NodeIdentity, Offer};
use uuid::Uuid;

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
/// nothing is offered, as the schema wants at least one slice in a pool).
pub fn primary(node: &NodeIdentity, offers: &[Offer]) -> Primary {
    let slices: Vec<Slice> = offers
        .iter()
        .map(|offer| {
            let register = RegisterSlice {
                slice_uuid: offer.slice_uuid,
                description: offer.description.clone(),
                register: offer.register.clone(),
                index: None,
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

/// This node as the secondary.
pub fn secondary(node: &NodeIdentity) -> Secondary {
    Secondary {
        uuid: node.node_uuid,
        description: node.description.clone(),
        instance: instance(node),
        controller: controller(node),
        links: None,
    }
}

/// Checks that this node's Primary domain with `offers` makes a valid plan document (the
/// schema bounds descriptions to 255 characters and wants an email to look like one), so that
/// an operator's change never leaves the server handing out stubs that fail the schema.
/// Returns each problem as `PATH: message`.
pub fn check_domain(node: &NodeIdentity, offers: &[Offer]) -> Result<(), Vec<String>> {
    let stub = plan_core::Plan::fragment(None, "check", primary(node, offers));
    let problems: Vec<String> = plan_core::validate_plan(&stub.to_xml())
        .into_iter()
        .map(|d| format!("{}: {}", d.path, d.message))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
