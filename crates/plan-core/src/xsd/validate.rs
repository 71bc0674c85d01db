//! Validating a parsed document against a compiled [`Schema`], collecting every problem.

use std::collections::HashMap;

use roxmltree::{Node, NodeType};

use super::names::is_xml_space;
use super::schema::{ComplexType, ElementDecl, Particle, Schema, SimpleId};
use crate::document::{excerpt, Parsed};
use crate::error::Diagnostic;
use crate::limits::Limits;

/// Attributes in this namespace (`xsi:schemaLocation` and friends) are hints for validators,
/// not content, so the plan rules ignore them.
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One validation run over one document.
pub(crate) struct Validation<'s, 'a, 'input> {
    schema: &'s Schema,
    parsed: &'a Parsed<'input>,
    /// The element path being visited: name and, when shown, its 1-based sibling index.
    path: Vec<(String, Option<usize>)>,
    diagnostics: Vec<Diagnostic>,
    max_diagnostics: usize,
}

impl<'s, 'a, 'input> Validation<'s, 'a, 'input> {
    pub(crate) fn run(
        schema: &'s Schema,
        parsed: &'a Parsed<'input>,
        limits: &Limits,
    ) -> Vec<Diagnostic> {
        let mut run = Validation {
            schema,
            parsed,
            path: Vec::new(),
            diagnostics: Vec::new(),
            max_diagnostics: limits.max_diagnostics,
        };
        let root = parsed.doc.root_element();
        let name = qualified(root);
        let global = schema
            .globals
            .iter()
            .filter_map(|id| schema.element(*id))
            .find(|decl| {
                root.tag_name().namespace().is_none() && decl.name == root.tag_name().name()
            });
        run.path.push((name.clone(), None));
        match global {
            Some(decl) => run.element(root, decl),
            None => {
                let expected: Vec<_> = schema
                    .globals
                    .iter()
                    .filter_map(|id| schema.element(*id))
                    .map(|d| d.name.as_str())
                    .collect();
                run.report(
                    root.range().start,
                    None,
                    format!(
                        "the document element is '{name}'; expected {} (in no namespace)",
                        expected.join(" or ")
                    ),
                );
            }
        }
        run.diagnostics
    }

    fn full(&self) -> bool {
        self.diagnostics.len() > self.max_diagnostics
    }

    fn report(&mut self, offset: usize, attribute: Option<&str>, message: String) {
        if self.full() {
            return;
        }
        let (line, column) = self.parsed.position(offset);
        let mut path = String::new();
        for (name, index) in &self.path {
            path.push('/');
            path.push_str(name);
            if let Some(i) = index {
                path.push_str(&format!("[{i}]"));
            }
        }
        if let Some(attribute) = attribute {
            path.push_str("/@");
            path.push_str(attribute);
        }
        self.diagnostics.push(Diagnostic {
            line,
            column,
            path,
            message,
        });
    }

    fn element(&mut self, node: Node<'a, 'input>, decl: &'s ElementDecl) {
        if self.full() {
            return;
        }
        let Some(ty) = self.schema.complex(decl.ty) else {
            return;
        };
        self.attributes(node, ty);
        self.xsi_attributes(node, decl);
        match &ty.sequence {
            None => self.empty_content(node),
            Some(particles) => {
                self.element_only_text(node);
                self.sequence(node, particles);
            }
        }
        for unique in &decl.uniques {
            let mut seen: HashMap<&str, ()> = HashMap::new();
            for child in node
                .children()
                .filter(|c| c.is_element() && c.tag_name().namespace().is_none())
            {
                if !unique.selector.iter().any(|s| s == child.tag_name().name()) {
                    continue;
                }
                let Some(attribute) = child.attribute_node(unique.field.as_str()) else {
                    continue;
                };
                if seen.insert(attribute.value(), ()).is_some() {
                    let index = self.parsed.siblings(child).0;
                    self.path
                        .push((child.tag_name().name().to_string(), Some(index)));
                    self.report(
                        attribute.range().start,
                        Some(&unique.field),
                        format!(
                            "duplicate {} {} among {} (constraint {})",
                            unique.field,
                            excerpt(attribute.value()),
                            unique.selector.join("|"),
                            unique.name
                        ),
                    );
                    self.path.pop();
                }
            }
        }
    }

    fn attributes(&mut self, node: Node<'a, 'input>, ty: &'s ComplexType) {
        for attribute in node.attributes() {
            match attribute.namespace() {
                Some(XSI) => continue, // see xsi_attributes
                Some(ns) => {
                    let name = format!("{{{ns}}}{}", attribute.name());
                    self.report(
                        attribute.range().start,
                        Some(&name),
                        format!("attribute '{name}' is not allowed"),
                    );
                    continue;
                }
                None => {}
            }
            let Some(declared) = ty.attributes.iter().find(|a| a.name == attribute.name()) else {
                self.report(
                    attribute.range().start,
                    Some(attribute.name()),
                    format!("attribute '{}' is not allowed here", attribute.name()),
                );
                continue;
            };
            if let Some(simple) = declared.ty {
                if let Err(message) = self.simple_value(simple, attribute.value()) {
                    self.report(
                        attribute.range_value().start,
                        Some(attribute.name()),
                        message,
                    );
                }
            }
        }
        for declared in ty.attributes.iter().filter(|a| a.required) {
            if node.attribute(declared.name.as_str()).is_none() {
                self.report(
                    node.range().start,
                    None,
                    format!("missing required attribute '{}'", declared.name),
                );
            }
        }
    }

    /// libxml2 ignores only the schema-location hints; `xsi:type` must name the declared
    /// type (no substitution here), `xsi:nil` needs a nillable element (none are), and any
    /// other `xsi:` attribute is not allowed.
    fn xsi_attributes(&mut self, node: Node<'a, 'input>, decl: &'s ElementDecl) {
        for attribute in node.attributes().filter(|a| a.namespace() == Some(XSI)) {
            let name = attribute.name();
            let message = match name {
                "schemaLocation" | "noNamespaceSchemaLocation" => continue,
                "type" => {
                    let value = attribute.value().trim();
                    let (prefix, local) = value
                        .split_once(':')
                        .map_or((None, value), |(p, l)| (Some(p), l));
                    let declared = node.lookup_namespace_uri(prefix).is_none()
                        && self.schema.complex_names.get(local) == Some(&decl.ty);
                    if declared {
                        continue;
                    }
                    format!(
                        "xsi:type {} is not the declared type of {}",
                        excerpt(value),
                        decl.name
                    )
                }
                "nil" => format!("xsi:nil is not allowed: {} is not nillable", decl.name),
                other => format!("attribute 'xsi:{other}' is not allowed"),
            };
            self.report(
                attribute.range().start,
                Some(&format!("xsi:{name}")),
                message,
            );
        }
    }

    /// Check a value against a simple type and each of its bases (facets of every step apply).
    fn simple_value(&self, id: SimpleId, value: &str) -> Result<(), String> {
        let length = value.chars().count();
        let mut next = Some(id);
        while let Some(ty) = next.and_then(|id| self.schema.simple(id)) {
            let facets = &ty.facets;
            let fail = |why: String| {
                Err(format!(
                    "{} is not a valid {}: {why}",
                    excerpt(value),
                    ty.label
                ))
            };
            if let Some(n) = facets.length.filter(|n| *n != length) {
                return fail(format!("length must be {n}, found {length}"));
            }
            if let Some(n) = facets.min_length.filter(|n| length < *n) {
                return fail(format!("length must be at least {n}, found {length}"));
            }
            if let Some(n) = facets.max_length.filter(|n| length > *n) {
                return fail(format!("length must be at most {n}, found {length}"));
            }
            if !facets.enumeration.is_empty() && !facets.enumeration.iter().any(|e| e == value) {
                return Err(format!(
                    "{} is not one of {}",
                    excerpt(value),
                    facets.enumeration.join(", ")
                ));
            }
            if !facets.patterns.is_empty()
                && !facets.patterns.iter().any(|(_, re)| re.is_match(value))
            {
                let patterns: Vec<_> = facets.patterns.iter().map(|(p, _)| p.as_str()).collect();
                return fail(format!("does not match {}", patterns.join(" or ")));
            }
            next = ty.base;
        }
        Ok(())
    }

    /// Empty content: no elements and no text at all, not even whitespace (as libxml2 decides).
    fn empty_content(&mut self, node: Node<'a, 'input>) {
        for child in node.children() {
            match child.node_type() {
                NodeType::Element => {
                    let name = qualified(child);
                    self.report(
                        child.range().start,
                        None,
                        format!(
                            "element '{name}' is not allowed: {} has empty content",
                            node.tag_name().name()
                        ),
                    );
                }
                NodeType::Text => {
                    self.report(
                        child.range().start,
                        None,
                        format!(
                            "text is not allowed: {} has empty content",
                            node.tag_name().name()
                        ),
                    );
                }
                _ => {}
            }
        }
    }

    /// Element-only content allows whitespace between elements, but libxml2 counts a CDATA
    /// section as character content even when it holds only whitespace.
    fn element_only_text(&mut self, node: Node<'a, 'input>) {
        for child in node.children().filter(|c| c.is_text()) {
            let whitespace = child.text().is_some_and(|t| t.chars().all(is_xml_space));
            // roxmltree merges a CDATA section into the text before it without widening the
            // node's range, so look at the source up to the next sibling.
            let end = child
                .next_sibling()
                .map_or(node.range().end, |next| next.range().start);
            let source = self.parsed.source(child.range().start..end);
            if !whitespace || source.contains("<![CDATA[") {
                self.report(
                    child.range().start,
                    None,
                    format!(
                        "text {} is not allowed: {} contains only elements",
                        excerpt(child.text().unwrap_or_default().trim()),
                        node.tag_name().name()
                    ),
                );
            }
        }
    }

    /// Match the element children against the sequence. Names within a sequence are distinct
    /// (checked when compiling), so a greedy match is exact; after a mismatch it resynchronises
    /// on the next particle of that name, so later problems are still found.
    fn sequence(&mut self, node: Node<'a, 'input>, particles: &'s [Particle]) {
        let mut current = 0usize;
        let mut count = 0u32;
        for child in node.children().filter(|c| c.is_element()) {
            if self.full() {
                return;
            }
            let name = child.tag_name().name();
            let namespaced = child.tag_name().namespace().is_some();
            let matches = |p: &Particle| !namespaced && p.name == name;
            let here = particles.get(current).filter(|p| matches(p));
            if let Some(particle) = here.filter(|p| p.max.is_none_or(|m| count < m)) {
                count += 1;
                self.child(child, particle, count);
                continue;
            }
            if here.is_some() {
                let max = here.and_then(|p| p.max).unwrap_or(0);
                let index = self.parsed.siblings(child).0;
                self.path.push((name.to_string(), Some(index)));
                self.report(
                    child.range().start,
                    None,
                    format!("too many '{name}' elements (at most {max})"),
                );
                self.path.pop();
                continue;
            }
            let later = particles
                .iter()
                .enumerate()
                .skip(current + 1)
                .find(|(_, p)| matches(p));
            if let Some((position, particle)) = later {
                // Everything skipped over must have been optional.
                self.missing(child.range().start, particles, current, count, position);
                current = position;
                count = 1;
                self.child(child, particle, count);
                continue;
            }
            let expected = self.expected(particles, current, count);
            let shown = qualified(child);
            let (index, total) = self.parsed.siblings(child);
            // The index is shown only when it is ambiguous.
            self.path
                .push((shown.clone(), (total > 1).then_some(index)));
            let message = match particles.iter().take(current).find(|p| matches(p)) {
                Some(_) => format!("element '{shown}' is out of order; expected {expected}"),
                None => format!("element '{shown}' is not allowed here; expected {expected}"),
            };
            self.report(child.range().start, None, message);
            self.path.pop();
        }
        // Point at the end tag, where the missing elements were due.
        let range = node.range();
        let end = self
            .parsed
            .source(range.clone())
            .rfind("</")
            .map_or(range.start, |at| range.start + at);
        self.missing(end, particles, current, count, particles.len());
    }

    fn child(&mut self, child: Node<'a, 'input>, particle: &'s Particle, count: u32) {
        let index = particle.repeats().then_some(count as usize);
        self.path.push((particle.name.clone(), index));
        if let Some(decl) = self.schema.element(particle.element) {
            self.element(child, decl);
        }
        self.path.pop();
    }

    /// Report required particles in `from..to` that did not occur enough times.
    fn missing(
        &mut self,
        offset: usize,
        particles: &[Particle],
        from: usize,
        count: u32,
        to: usize,
    ) {
        for (i, particle) in particles.iter().enumerate().take(to).skip(from) {
            let seen = if i == from { count } else { 0 };
            if seen < particle.min {
                let message = if seen == 0 {
                    format!("missing required element '{}'", particle.name)
                } else {
                    format!(
                        "too few '{}' elements: {seen}, at least {}",
                        particle.name, particle.min
                    )
                };
                self.report(offset, None, message);
            }
        }
    }

    fn expected(&self, particles: &[Particle], current: usize, count: u32) -> String {
        let mut names = Vec::new();
        for (i, particle) in particles.iter().enumerate().skip(current) {
            let can_take = i != current || particle.max.is_none_or(|m| count < m);
            if can_take {
                names.push(format!("'{}'", particle.name));
            }
            let satisfied = if i == current {
                count >= particle.min
            } else {
                particle.min == 0
            };
            if !satisfied {
                return names.join(" or ");
            }
        }
        names.push("the end of the element".to_string());
        names.join(" or ")
    }
}

/// `name` or `{namespace}name`, as libxml2 shows it.
fn qualified(node: Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_string(),
    }
}

impl Schema {
    /// The element path of `node` as validation shows it: `[n]` on elements whose declaration
    /// lets them repeat.
    pub(crate) fn element_path(&self, parsed: &Parsed<'_>, node: Node<'_, '_>) -> String {
        let mut chain: Vec<Node<'_, '_>> = node.ancestors().filter(|n| n.is_element()).collect();
        chain.reverse();
        let mut path = String::new();
        let mut decl: Option<&ElementDecl> = None;
        for (depth, element) in chain.into_iter().enumerate() {
            let name = qualified(element);
            let (next, repeats) = if depth == 0 {
                let global = self
                    .globals
                    .iter()
                    .filter_map(|id| self.element(*id))
                    .find(|d| element.tag_name().namespace().is_none() && d.name == name);
                (global, false)
            } else {
                let particle = decl
                    .and_then(|d| self.complex(d.ty))
                    .and_then(|t| t.sequence.as_ref())
                    .and_then(|ps| {
                        ps.iter()
                            .find(|p| element.tag_name().namespace().is_none() && p.name == name)
                    });
                (
                    particle.and_then(|p| self.element(p.element)),
                    particle.is_none_or(Particle::repeats),
                )
            };
            path.push('/');
            path.push_str(&name);
            if repeats {
                path.push_str(&format!("[{}]", parsed.siblings(element).0));
            }
            decl = next;
        }
        path
    }
}
