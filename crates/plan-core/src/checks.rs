//! Application rules beyond the XSD (plans.md §1, last paragraphs).
//!
//! The XSD cannot say "unique across the whole document" with the identity-constraint subset
//! we interpret, nor relate a subscription to a slice, so these rules run on the same parsed
//! document and produce the same kind of positioned diagnostics.

use std::collections::{HashMap, HashSet};

use roxmltree::Node;

use crate::document::{excerpt, Parsed};
use crate::error::Diagnostic;
use crate::xsd::Schema;

/// The all-zero UUID: the plan UUID of a fragment that has none yet. The rules treat it as a
/// placeholder, never as an identity.
pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

pub(crate) fn run(schema: &Schema, parsed: &Parsed<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let root = parsed.doc.root_element();
    let report = |out: &mut Vec<Diagnostic>,
                  node: Node<'_, '_>,
                  offset: usize,
                  attribute: Option<&str>,
                  message: String| {
        let (line, column) = parsed.position(offset);
        let mut path = schema.element_path(parsed, node);
        if let Some(attribute) = attribute {
            path.push_str("/@");
            path.push_str(attribute);
        }
        out.push(Diagnostic {
            line,
            column,
            path,
            message,
        });
    };

    // A complete plan (with Secondary or Communal) needs its own, non-zero UUID.
    let fragment = child(root, "Secondary").is_none() && child(root, "Communal").is_none();
    if !fragment {
        match root.attribute_node("uuid") {
            None => report(&mut out, root, root.range().start, None, "a plan with Secondary or Communal needs a uuid".into()),
            Some(a) if a.value() == NIL_UUID => report(
                &mut out,
                root,
                a.range_value().start,
                Some("uuid"),
                "a plan with Secondary or Communal needs a real uuid, not the all-zero fragment uuid".into(),
            ),
            Some(_) => {}
        }
    }

    // Every uuid attribute identifies something: no two may be equal (the all-zero UUID of a
    // fragment is a placeholder, not an identity).
    let mut seen: HashMap<&str, Node<'_, '_>> = HashMap::new();
    for node in root.descendants().filter(|n| n.is_element()) {
        let Some(attribute) = node.attribute_node("uuid") else {
            continue;
        };
        if attribute.value() == NIL_UUID {
            continue;
        }
        if let Some(first) = seen.get(attribute.value()) {
            let (line, _) = parsed.position(first.range().start);
            let message = format!(
                "uuid {} is already used by {} on line {line}",
                excerpt(attribute.value()),
                schema.element_path(parsed, *first)
            );
            report(
                &mut out,
                node,
                attribute.range_value().start,
                Some("uuid"),
                message,
            );
        } else {
            seen.insert(attribute.value(), node);
        }
    }

    // Subscriptions name slices of the primary; register slices name their register.
    let slices: Vec<Node<'_, '_>> = child(root, "Primary")
        .and_then(|p| child(p, "Pools"))
        .into_iter()
        .flat_map(|pools| pools.children().filter(|c| c.has_tag_name("Pool")))
        .filter_map(|pool| child(pool, "Slices"))
        .flat_map(|slices| slices.children().filter(|c| c.has_tag_name("Slice")))
        .collect();
    let slice_uuids: HashSet<&str> = slices.iter().filter_map(|s| s.attribute("uuid")).collect();
    let subscriptions = child(root, "Communal")
        .and_then(|c| child(c, "Subscriptions"))
        .into_iter()
        .flat_map(|s| s.children().filter(|c| c.has_tag_name("Subscription")));
    for subscription in subscriptions {
        if let Some(attribute) = subscription.attribute_node("sliceuuid") {
            if !slice_uuids.contains(attribute.value()) {
                let message = format!(
                    "sliceuuid {} names no slice of the primary",
                    excerpt(attribute.value())
                );
                report(
                    &mut out,
                    subscription,
                    attribute.range_value().start,
                    Some("sliceuuid"),
                    message,
                );
            }
        }
    }
    for slice in &slices {
        let needed: &[&str] = match slice.attribute("slicetype") {
            Some("register") => &["register"],
            Some("register-index") => &["register", "index"],
            _ => continue,
        };
        let keyfields: HashSet<&str> = child(*slice, "Links")
            .into_iter()
            .flat_map(|links| links.children().filter(|c| c.has_tag_name("UniqueLink")))
            .filter_map(|link| link.attribute("keyfield"))
            .collect();
        for keyfield in needed.iter().filter(|k| !keyfields.contains(**k)) {
            let message = format!(
                "a {} slice needs a UniqueLink with keyfield=\"{keyfield}\"",
                slice.attribute("slicetype").unwrap_or_default()
            );
            report(&mut out, *slice, slice.range().start, None, message);
        }
    }
    out
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().namespace().is_none() && c.tag_name().name() == name
    })
}
