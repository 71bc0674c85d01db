//! Reading a plan document into the typed [`Plan`], after it passed validation: the readers
//! may then rely on the schema (required children present, values well-formed).

use roxmltree::Node;
use uuid::Uuid;

use crate::error::Error;
use crate::limits::Limits;
use crate::model::{
    Admin, Capability, Communal, Controller, DeliveryProfile, Instance, Links, MultiLink,
    MultiLinkEntry, Plan, PlanId, Pool, Primary, Response, Secondary, Slice, Software,
    Subscription, UniqueLink,
};
use crate::validate::{check_plan, plan_schema};

impl Plan {
    /// Parse a plan document: it must pass the schema and the application rules (the same
    /// check as [`validate_plan_with`](crate::validate_plan_with) with the default limits).
    pub fn from_xml(text: &str) -> Result<Plan, Error> {
        Plan::from_xml_with(text, &Limits::default())
    }

    /// [`Plan::from_xml`] within `limits` (a server's tighter bounds for partners' documents).
    pub fn from_xml_with(text: &str, limits: &Limits) -> Result<Plan, Error> {
        let parsed = check_plan(plan_schema()?, text, limits).map_err(Error::Invalid)?;
        read_plan(parsed.doc.root_element())
    }
}

type Read<T> = Result<T, Error>;

/// Children in no namespace with this name (validation has already refused anything else).
fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn child<'a, 'input: 'a>(node: Node<'a, 'input>, name: &'static str) -> Option<Node<'a, 'input>> {
    children(node, name).next()
}

fn required<'a, 'input: 'a>(node: Node<'a, 'input>, name: &'static str) -> Read<Node<'a, 'input>> {
    child(node, name)
        .ok_or_else(|| Error::Document(format!("{} has no {name}", node.tag_name().name())))
}

fn text(node: Node<'_, '_>, name: &str) -> Read<String> {
    node.attribute(name)
        .map(str::to_string)
        .ok_or_else(|| Error::Document(format!("{} has no @{name}", node.tag_name().name())))
}

fn optional(node: Node<'_, '_>, name: &str) -> Option<String> {
    node.attribute(name).map(str::to_string)
}

fn uuid(node: Node<'_, '_>, name: &str) -> Read<Uuid> {
    parse_uuid(node, &text(node, name)?)
}

fn parse_uuid(node: Node<'_, '_>, value: &str) -> Read<Uuid> {
    Uuid::parse_str(value)
        .map_err(|e| Error::Document(format!("{}: bad uuid: {e}", node.tag_name().name())))
}

fn read_plan(root: Node<'_, '_>) -> Read<Plan> {
    let uuid = match root.attribute("uuid") {
        Some(value) => Some(PlanId(parse_uuid(root, value)?)),
        None => None,
    };
    let p = required(root, "Primary")?;
    let primary = Primary {
        uuid: uuid_of(p)?,
        description: text(p, "description")?,
        instance: read_instance(required(p, "Instance")?)?,
        controller: read_controller(required(p, "Controller")?)?,
        links: child(p, "Links").map(read_links).transpose()?,
        pools: child(p, "Pools")
            .into_iter()
            .flat_map(|pools| children(pools, "Pool"))
            .map(read_pool)
            .collect::<Read<_>>()?,
    };
    let communal = child(root, "Communal")
        .map(|c| -> Read<Communal> {
            let subscriptions = child(c, "Subscriptions")
                .into_iter()
                .flat_map(|s| children(s, "Subscription"))
                .map(|s| {
                    Ok(Subscription {
                        uuid: uuid_of(s)?,
                        slice_uuid: s
                            .attribute("sliceuuid")
                            .map(|v| parse_uuid(s, v))
                            .transpose()?,
                        delivery_profiles: child(s, "DeliveryProfiles")
                            .into_iter()
                            .flat_map(|d| children(d, "DeliveryProfile"))
                            .map(|d| Ok(DeliveryProfile { uuid: uuid_of(d)? }))
                            .collect::<Read<_>>()?,
                    })
                })
                .collect::<Read<_>>()?;
            Ok(Communal { subscriptions })
        })
        .transpose()?;
    let secondary = child(root, "Secondary")
        .map(|s| -> Read<Secondary> {
            Ok(Secondary {
                uuid: uuid_of(s)?,
                description: text(s, "description")?,
                instance: read_instance(required(s, "Instance")?)?,
                controller: read_controller(required(s, "Controller")?)?,
                links: child(s, "Links").map(read_links).transpose()?,
            })
        })
        .transpose()?;
    Ok(Plan {
        uuid,
        description: text(root, "description")?,
        primary,
        communal,
        secondary,
    })
}

fn uuid_of(node: Node<'_, '_>) -> Read<Uuid> {
    uuid(node, "uuid")
}

fn read_instance(node: Node<'_, '_>) -> Read<Instance> {
    let software = required(node, "Software")?;
    let capability = required(node, "Capability")?;
    Ok(Instance {
        uuid: uuid_of(node)?,
        software: Software {
            description: text(software, "description")?,
            version: text(software, "version")?,
        },
        capability: Capability {
            level: optional(capability, "level"),
            responses: children(capability, "Response")
                .map(|r| {
                    Ok(Response {
                        uri: text(r, "uri")?,
                        role: optional(r, "role"),
                        description: optional(r, "description"),
                    })
                })
                .collect::<Read<_>>()?,
        },
    })
}

fn read_controller(node: Node<'_, '_>) -> Read<Controller> {
    let admin = required(node, "Admin")?;
    Ok(Controller {
        uuid: uuid_of(node)?,
        description: text(node, "description")?,
        admin: Admin {
            contact: optional(admin, "contact"),
            email: optional(admin, "email"),
        },
    })
}

fn read_links(node: Node<'_, '_>) -> Read<Links> {
    Ok(Links {
        unique: children(node, "UniqueLink")
            .map(|u| {
                Ok(UniqueLink {
                    uuid: uuid_of(u)?,
                    keyfield: text(u, "keyfield")?,
                    keyvalue: text(u, "keyvalue")?,
                    description: optional(u, "description"),
                })
            })
            .collect::<Read<_>>()?,
        multi: children(node, "MultiLink")
            .map(|m| {
                Ok(MultiLink {
                    keyfield: text(m, "keyfield")?,
                    entries: children(m, "MultiLinkEntry")
                        .map(|e| {
                            Ok(MultiLinkEntry {
                                uuid: uuid_of(e)?,
                                keyvalue: text(e, "keyvalue")?,
                                description: optional(e, "description"),
                            })
                        })
                        .collect::<Read<_>>()?,
                })
            })
            .collect::<Read<_>>()?,
    })
}

fn read_pool(node: Node<'_, '_>) -> Read<Pool> {
    Ok(Pool {
        uuid: uuid_of(node)?,
        description: text(node, "description")?,
        links: child(node, "Links").map(read_links).transpose()?,
        slices: child(node, "Slices")
            .into_iter()
            .flat_map(|s| children(s, "Slice"))
            .map(|s| {
                Ok(Slice {
                    uuid: uuid_of(s)?,
                    description: text(s, "description")?,
                    slice_type: text(s, "slicetype")?,
                    filename: optional(s, "filename"),
                    links: child(s, "Links").map(read_links).transpose()?,
                })
            })
            .collect::<Read<_>>()?,
    })
}
