//! Writing a [`Plan`] back as its XML document, so that `from_xml(to_xml(p)) == p`.

use std::fmt::Write as _;

use uuid::Uuid;

use crate::model::{Controller, Instance, Links, Plan};

impl Plan {
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
