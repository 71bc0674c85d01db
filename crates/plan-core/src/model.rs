//! The typed plan: built from a valid document, written back as XML.
//!
//! Optional containers whose XSD content needs at least one child (`Pools`, `Slices`,
//! `Subscriptions`, `DeliveryProfiles`) are plain `Vec`s: empty means the element is absent,
//! which keeps the model and the document in one-to-one correspondence. `Links` may be
//! present and empty, so it is an `Option`. Enumerated values (`slicetype`, `level`, `role`)
//! stay strings: the XSD is their single definition and validation guarantees them.

use std::fmt::{self, Write as _};

use roxmltree::Node;
use uuid::Uuid;

use crate::document::Limits;
use crate::error::Error;
use crate::validate::{check_plan, plan_schema};

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
        let mut unique = vec![link("register", &register.register, new_id())];
        if let Some(index) = &register.index {
            unique.push(link("index", index, new_id()));
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
                .and_then(|l| l.unique.iter().find(|u| u.keyfield == keyfield))
                .map(|u| u.keyvalue.clone())
        };
        let index = match self.slice_type.as_str() {
            "register" => None,
            "register-index" => Some(link("index")?),
            _ => return None,
        };
        Some(RegisterSlice {
            slice_uuid: self.uuid,
            description: self.description.clone(),
            register: link("register")?,
            index,
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

    /// Parse a plan document: it must pass the schema and the application rules (the same
    /// check as [`validate_plan_with`](crate::validate_plan_with) with the default limits).
    pub fn from_xml(text: &str) -> Result<Plan, Error> {
        let parsed =
            check_plan(plan_schema()?, text, &Limits::default()).map_err(Error::Invalid)?;
        read_plan(parsed.doc.root_element())
    }

    /// The plan as an XML document (UTF-8, two-space indentation).
    pub fn to_xml(&self) -> String {
        let mut w = Writer {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        };
        let uuid = self.uuid.map(|u| u.to_string());
        w.open(
            "Plan",
            &[
                ("uuid", uuid.as_deref()),
                ("description", Some(&self.description)),
            ],
        );
        let p = &self.primary;
        w.open(
            "Primary",
            &[
                ("uuid", Some(&id(p.uuid))),
                ("description", Some(&p.description)),
            ],
        );
        write_node(&mut w, &p.instance, &p.controller, p.links.as_ref());
        if !p.pools.is_empty() {
            w.open("Pools", &[]);
            for pool in &p.pools {
                w.open(
                    "Pool",
                    &[
                        ("uuid", Some(&id(pool.uuid))),
                        ("description", Some(&pool.description)),
                    ],
                );
                write_links(&mut w, pool.links.as_ref());
                if !pool.slices.is_empty() {
                    w.open("Slices", &[]);
                    for slice in &pool.slices {
                        let attributes = [
                            ("uuid", Some(id(slice.uuid))),
                            ("description", Some(slice.description.clone())),
                            ("slicetype", Some(slice.slice_type.clone())),
                            ("filename", slice.filename.clone()),
                        ];
                        let attributes: Vec<_> =
                            attributes.iter().map(|(k, v)| (*k, v.as_deref())).collect();
                        match &slice.links {
                            None => w.empty("Slice", &attributes),
                            Some(links) => {
                                w.open("Slice", &attributes);
                                write_links(&mut w, Some(links));
                                w.close("Slice");
                            }
                        }
                    }
                    w.close("Slices");
                }
                w.close("Pool");
            }
            w.close("Pools");
        }
        w.close("Primary");
        if let Some(communal) = &self.communal {
            if communal.subscriptions.is_empty() {
                w.empty("Communal", &[]);
            } else {
                w.open("Communal", &[]);
                w.open("Subscriptions", &[]);
                for s in &communal.subscriptions {
                    let (uuid, slice) = (id(s.uuid), s.slice_uuid.map(id));
                    let attributes = [
                        ("uuid", Some(uuid.as_str())),
                        ("sliceuuid", slice.as_deref()),
                    ];
                    if s.delivery_profiles.is_empty() {
                        w.empty("Subscription", &attributes);
                    } else {
                        w.open("Subscription", &attributes);
                        w.open("DeliveryProfiles", &[]);
                        for d in &s.delivery_profiles {
                            w.empty("DeliveryProfile", &[("uuid", Some(&id(d.uuid)))]);
                        }
                        w.close("DeliveryProfiles");
                        w.close("Subscription");
                    }
                }
                w.close("Subscriptions");
                w.close("Communal");
            }
        }
        if let Some(s) = &self.secondary {
            w.open(
                "Secondary",
                &[
                    ("uuid", Some(&id(s.uuid))),
                    ("description", Some(&s.description)),
                ],
            );
            write_node(&mut w, &s.instance, &s.controller, s.links.as_ref());
            w.close("Secondary");
        }
        w.close("Plan");
        w.out
    }
}

fn id(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

// ----- reading -----

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

// ----- writing -----

struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn start(&mut self, name: &str, attributes: &[(&str, Option<&str>)]) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            if let Some(value) = value {
                let _ = write!(self.out, " {key}=\"");
                escape_attribute(&mut self.out, value);
                self.out.push('"');
            }
        }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, Option<&str>)]) {
        self.start(name, attributes);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, Option<&str>)]) {
        self.start(name, attributes);
        self.out.push_str("/>\n");
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        let _ = writeln!(self.out, "</{name}>");
    }
}

/// Escape an attribute value. Tab, CR and LF become character references because a parser
/// would otherwise normalise them to spaces, and the value must survive a round trip.
fn escape_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            other => out.push(other),
        }
    }
}

fn write_node(w: &mut Writer, instance: &Instance, controller: &Controller, links: Option<&Links>) {
    w.open("Instance", &[("uuid", Some(&id(instance.uuid)))]);
    let software = &instance.software;
    w.empty(
        "Software",
        &[
            ("description", Some(&software.description)),
            ("version", Some(&software.version)),
        ],
    );
    let capability = &instance.capability;
    let level = [("level", capability.level.as_deref())];
    if capability.responses.is_empty() {
        w.empty("Capability", &level);
    } else {
        w.open("Capability", &level);
        for r in &capability.responses {
            w.empty(
                "Response",
                &[
                    ("uri", Some(&r.uri)),
                    ("role", r.role.as_deref()),
                    ("description", r.description.as_deref()),
                ],
            );
        }
        w.close("Capability");
    }
    w.close("Instance");
    w.open(
        "Controller",
        &[
            ("uuid", Some(&id(controller.uuid))),
            ("description", Some(&controller.description)),
        ],
    );
    let admin = &controller.admin;
    w.empty(
        "Admin",
        &[
            ("contact", admin.contact.as_deref()),
            ("email", admin.email.as_deref()),
        ],
    );
    w.close("Controller");
    write_links(w, links);
}

fn write_links(w: &mut Writer, links: Option<&Links>) {
    let Some(links) = links else { return };
    if links.unique.is_empty() && links.multi.is_empty() {
        w.empty("Links", &[]);
        return;
    }
    w.open("Links", &[]);
    for u in &links.unique {
        w.empty(
            "UniqueLink",
            &[
                ("uuid", Some(&id(u.uuid))),
                ("keyfield", Some(&u.keyfield)),
                ("keyvalue", Some(&u.keyvalue)),
                ("description", u.description.as_deref()),
            ],
        );
    }
    for m in &links.multi {
        w.open("MultiLink", &[("keyfield", Some(&m.keyfield))]);
        for e in &m.entries {
            w.empty(
                "MultiLinkEntry",
                &[
                    ("uuid", Some(&id(e.uuid))),
                    ("keyvalue", Some(&e.keyvalue)),
                    ("description", e.description.as_deref()),
                ],
            );
        }
        w.close("MultiLink");
    }
    w.close("Links");
}
