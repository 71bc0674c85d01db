//! An XSD interpreter for the subset of XML Schema 1.0 that the plan schema uses.
//!
//! [`Schema::parse`] reads a `.xsd` file with roxmltree and compiles it into a small arena of
//! element declarations, complex types and simple types (indices instead of references, so
//! recursive types need no `Rc`). Every construct of the schema is checked against the
//! supported subset; anything else is an [`Error::UnsupportedSchema`], never silently ignored,
//! because ignoring a constraint would accept documents libxml2 rejects.
//!
//! Supported: global elements; named and anonymous complex types; `xs:sequence` of local
//! elements with `minOccurs`/`maxOccurs`; empty content; attributes (`use` required, optional,
//! prohibited) and attribute groups (nested); simple types restricting `xs:string` or another
//! such simple type with `length`, `minLength`, `maxLength`, `pattern` and `enumeration`
//! (facets of every derivation step apply); `xs:unique` with a selector that is a union of child
//! names and a single `@attr` field; `xs:annotation` anywhere.

mod regex;
pub(crate) mod validate;

use std::collections::{HashMap, HashSet};

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::Error;

/// The XML Schema namespace.
const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// A compiled schema, ready to validate documents. Cheap to share: validation borrows it.
#[derive(Debug, Clone)]
pub struct Schema {
    globals: Vec<ElementId>,
    elements: Vec<ElementDecl>,
    complex_types: Vec<ComplexType>,
    simple_types: Vec<SimpleType>,
    /// Named complex types, for `xsi:type` in instances.
    complex_names: HashMap<String, ComplexId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ElementId(usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ComplexId(usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SimpleId(usize);

#[derive(Debug, Clone)]
struct ElementDecl {
    name: String,
    ty: ComplexId,
    uniques: Vec<Unique>,
}

#[derive(Debug, Clone)]
struct ComplexType {
    /// `None`: empty content. `Some`: element-only content, an ordered sequence.
    sequence: Option<Vec<Particle>>,
    attributes: Vec<AttributeUse>,
}

#[derive(Debug, Clone)]
struct Particle {
    name: String,
    element: ElementId,
    min: u32,
    /// `None` is `unbounded`.
    max: Option<u32>,
}

impl Particle {
    fn repeats(&self) -> bool {
        self.max.is_none_or(|m| m > 1)
    }
}

#[derive(Debug, Clone)]
struct AttributeUse {
    name: String,
    ty: Option<SimpleId>,
    required: bool,
}

#[derive(Debug, Clone)]
struct Unique {
    name: String,
    selector: Vec<String>,
    field: String,
}

#[derive(Debug, Clone)]
struct SimpleType {
    /// For messages: the type's name, or `anonymous type`.
    label: String,
    /// `None` means the base is `xs:string`.
    base: Option<SimpleId>,
    facets: Facets,
}

#[derive(Debug, Clone, Default)]
struct Facets {
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    /// Patterns of one derivation step are alternatives (OR).
    patterns: Vec<(String, ::regex::Regex)>,
    enumeration: Vec<String>,
}

impl Schema {
    /// Compile a schema from the text of an `.xsd` file.
    pub fn parse(xsd: &str) -> Result<Schema, Error> {
        // The schema is ours, but refuse DTDs here too: one rule for all XML we read.
        let options = ParsingOptions {
            allow_dtd: false,
            ..ParsingOptions::default()
        };
        let doc = Document::parse_with_options(xsd, options).map_err(|e| {
            let pos = e.pos();
            Error::Schema {
                line: pos.row,
                column: pos.col,
                message: e.to_string(),
            }
        })?;
        Compiler::new(&doc)?.compile()
    }

    fn complex(&self, id: ComplexId) -> Option<&ComplexType> {
        self.complex_types.get(id.0)
    }

    fn element(&self, id: ElementId) -> Option<&ElementDecl> {
        self.elements.get(id.0)
    }

    fn simple(&self, id: SimpleId) -> Option<&SimpleType> {
        self.simple_types.get(id.0)
    }
}

/// Compile-time state: the schema's top-level definitions by name, and what has been compiled.
struct Compiler<'a, 'input> {
    doc: &'a Document<'input>,
    simple_defs: HashMap<&'a str, Node<'a, 'input>>,
    complex_defs: HashMap<&'a str, Node<'a, 'input>>,
    group_defs: HashMap<&'a str, Node<'a, 'input>>,
    element_defs: Vec<Node<'a, 'input>>,
    simple_ids: HashMap<String, SimpleId>,
    complex_ids: HashMap<String, ComplexId>,
    /// Named simple types being compiled, to detect circular derivation.
    simple_in_progress: HashSet<String>,
    unique_names: HashSet<String>,
    schema: Schema,
}

type Compiled<T> = Result<T, Error>;

/// Attributes every schema element may carry.
const COMMON: &[&str] = &["id"];

impl<'a, 'input> Compiler<'a, 'input> {
    fn new(doc: &'a Document<'input>) -> Compiled<Self> {
        let mut compiler = Compiler {
            doc,
            simple_defs: HashMap::new(),
            complex_defs: HashMap::new(),
            group_defs: HashMap::new(),
            element_defs: Vec::new(),
            simple_ids: HashMap::new(),
            complex_ids: HashMap::new(),
            simple_in_progress: HashSet::new(),
            unique_names: HashSet::new(),
            schema: Schema {
                globals: Vec::new(),
                elements: Vec::new(),
                complex_types: Vec::new(),
                simple_types: Vec::new(),
                complex_names: HashMap::new(),
            },
        };
        let root = doc.root_element();
        if !is_xs(root, "schema") {
            return Err(compiler.invalid(root, "the root element is not xs:schema"));
        }
        compiler.check_attributes(
            root,
            &[
                "id",
                "version",
                "elementFormDefault",
                "attributeFormDefault",
            ],
        )?;
        for child in compiler.children(root)? {
            let kind = child.tag_name().name();
            let table = match kind {
                "simpleType" => &mut compiler.simple_defs,
                "complexType" => &mut compiler.complex_defs,
                "attributeGroup" => &mut compiler.group_defs,
                "element" => {
                    compiler.element_defs.push(child);
                    continue;
                }
                _ => return Err(compiler.unsupported(child, format!("top-level xs:{kind}"))),
            };
            let Some(name) = child.attribute("name") else {
                return Err(compiler.invalid(child, &format!("a top-level xs:{kind} needs a name")));
            };
            if table.insert(name, child).is_some() {
                return Err(
                    compiler.invalid(child, &format!("xs:{kind} '{name}' is defined twice"))
                );
            }
        }
        Ok(compiler)
    }

    fn compile(mut self) -> Compiled<Schema> {
        let mut names = HashSet::new();
        for node in self.element_defs.clone() {
            self.check_attributes(node, &["id", "name", "type"])?;
            let id = self.element(node)?;
            let name = self
                .schema
                .elements
                .get(id.0)
                .map(|e| e.name.clone())
                .unwrap_or_default();
            if !names.insert(name.clone()) {
                return Err(
                    self.invalid(node, &format!("global element '{name}' is declared twice"))
                );
            }
            self.schema.globals.push(id);
        }
        // Compile unused named types too, so that an error in them is reported now.
        let simple: Vec<_> = self.simple_defs.keys().map(|k| k.to_string()).collect();
        for name in simple {
            self.named_simple(self.doc.root_element(), &name)?;
        }
        let complex: Vec<_> = self.complex_defs.keys().map(|k| k.to_string()).collect();
        for name in complex {
            self.named_complex(self.doc.root_element(), &name)?;
        }
        if self.schema.globals.is_empty() {
            return Err(self.invalid(
                self.doc.root_element(),
                "the schema declares no global element",
            ));
        }
        self.schema.complex_names = self.complex_ids.clone();
        Ok(self.schema)
    }

    // ----- elements and complex types -----

    /// An element declaration (global or local; the caller checked the allowed attributes).
    fn element(&mut self, node: Node<'a, 'input>) -> Compiled<ElementId> {
        let Some(name) = node.attribute("name") else {
            return Err(match node.attribute("ref") {
                Some(_) => self.unsupported(node, "xs:element with ref".into()),
                None => self.invalid(node, "xs:element needs a name"),
            });
        };
        let mut ty = None;
        let mut uniques = Vec::new();
        if let Some(qname) = node.attribute("type") {
            ty = Some(self.element_type(node, qname)?);
        }
        for child in self.children(node)? {
            match child.tag_name().name() {
                "complexType" if ty.is_none() && uniques.is_empty() => {
                    self.check_attributes(child, &["id", "mixed"])?;
                    ty = Some(self.complex_type(child)?);
                }
                "unique" => uniques.push(self.unique(child)?),
                "complexType" => {
                    return Err(self.invalid(
                        child,
                        "an element has either a type attribute or one anonymous type",
                    ))
                }
                other => return Err(self.unsupported(child, format!("xs:{other} in xs:element"))),
            }
        }
        let Some(ty) = ty else {
            return Err(self.unsupported(
                node,
                format!("element '{name}' without a complex type (xs:anyType)"),
            ));
        };
        let id = ElementId(self.schema.elements.len());
        self.schema.elements.push(ElementDecl {
            name: name.to_string(),
            ty,
            uniques,
        });
        Ok(id)
    }

    fn element_type(&mut self, node: Node<'a, 'input>, qname: &str) -> Compiled<ComplexId> {
        match self.resolve_qname(node, qname)? {
            TypeRef::Builtin(local) => Err(self.unsupported(
                node,
                format!("element of built-in type xs:{local} (simple content)"),
            )),
            TypeRef::Named(local) => {
                if self.complex_defs.contains_key(local.as_str()) {
                    self.named_complex(node, &local)
                } else if self.simple_defs.contains_key(local.as_str()) {
                    Err(self.unsupported(
                        node,
                        format!("element of simple type '{local}' (simple content)"),
                    ))
                } else {
                    Err(self.invalid(node, &format!("unknown type '{qname}'")))
                }
            }
        }
    }

    fn named_complex(&mut self, at: Node<'a, 'input>, name: &str) -> Compiled<ComplexId> {
        if let Some(id) = self.complex_ids.get(name) {
            return Ok(*id);
        }
        let Some(def) = self.complex_defs.get(name).copied() else {
            return Err(self.invalid(at, &format!("unknown complex type '{name}'")));
        };
        self.check_attributes(def, &["id", "name", "mixed"])?;
        // Reserve the id first so that recursive content models refer to it.
        let id = ComplexId(self.schema.complex_types.len());
        self.schema.complex_types.push(ComplexType {
            sequence: None,
            attributes: Vec::new(),
        });
        self.complex_ids.insert(name.to_string(), id);
        let compiled = self.complex_content(def)?;
        if let Some(slot) = self.schema.complex_types.get_mut(id.0) {
            *slot = compiled;
        }
        Ok(id)
    }

    fn complex_type(&mut self, node: Node<'a, 'input>) -> Compiled<ComplexId> {
        let compiled = self.complex_content(node)?;
        let id = ComplexId(self.schema.complex_types.len());
        self.schema.complex_types.push(compiled);
        Ok(id)
    }

    fn complex_content(&mut self, node: Node<'a, 'input>) -> Compiled<ComplexType> {
        if let Some(mixed) = node.attribute("mixed") {
            if !matches!(mixed, "false" | "0") {
                return Err(self.unsupported(node, "mixed content".into()));
            }
        }
        let mut sequence = None;
        let mut attributes = Vec::new();
        for child in self.children(node)? {
            match child.tag_name().name() {
                "sequence" if sequence.is_none() && attributes.is_empty() => {
                    let particles = self.sequence(child)?;
                    // An empty sequence is empty content (XSD 1.0 §3.4.2).
                    sequence = Some(particles).filter(|p: &Vec<Particle>| !p.is_empty());
                }
                "attribute" | "attributeGroup" => {
                    let mut seen = HashSet::new();
                    self.attribute_item(child, &mut attributes, &mut seen)?;
                }
                other => {
                    return Err(self.unsupported(child, format!("xs:{other} in xs:complexType")))
                }
            }
        }
        let mut names = HashSet::new();
        for attribute in &attributes {
            if !names.insert(attribute.name.as_str()) {
                return Err(self.invalid(
                    node,
                    &format!("attribute '{}' is declared twice", attribute.name),
                ));
            }
        }
        Ok(ComplexType {
            sequence,
            attributes,
        })
    }

    fn sequence(&mut self, node: Node<'a, 'input>) -> Compiled<Vec<Particle>> {
        self.check_attributes(node, &["id", "minOccurs", "maxOccurs"])?;
        let (min, max) = self.occurs(node)?;
        if (min, max) != (1, Some(1)) {
            return Err(self.unsupported(node, "minOccurs/maxOccurs on xs:sequence".into()));
        }
        let mut particles: Vec<Particle> = Vec::new();
        for child in self.children(node)? {
            if child.tag_name().name() != "element" {
                return Err(self.unsupported(
                    child,
                    format!("xs:{} in xs:sequence", child.tag_name().name()),
                ));
            }
            self.check_attributes(
                child,
                &["id", "name", "type", "minOccurs", "maxOccurs", "ref"],
            )?;
            let (min, max) = self.occurs(child)?;
            let element = self.element(child)?;
            let name = self
                .schema
                .element(element)
                .map(|e| e.name.clone())
                .unwrap_or_default();
            // Distinct names keep the content model deterministic (Unique Particle Attribution)
            // and let validation match greedily.
            if particles.iter().any(|p| p.name == name) {
                return Err(
                    self.unsupported(child, format!("element '{name}' twice in one xs:sequence"))
                );
            }
            particles.push(Particle {
                name,
                element,
                min,
                max,
            });
        }
        Ok(particles)
    }

    fn occurs(&self, node: Node<'a, 'input>) -> Compiled<(u32, Option<u32>)> {
        let min = match node.attribute("minOccurs") {
            None => 1,
            Some(v) => v
                .parse::<u32>()
                .map_err(|_| self.invalid(node, &format!("bad minOccurs '{v}'")))?,
        };
        let max = match node.attribute("maxOccurs") {
            None => Some(1),
            Some("unbounded") => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .map_err(|_| self.invalid(node, &format!("bad maxOccurs '{v}'")))?,
            ),
        };
        if max.is_some_and(|m| m < min) {
            return Err(self.invalid(node, "maxOccurs is less than minOccurs"));
        }
        Ok((min, max))
    }

    // ----- attributes -----

    /// An `xs:attribute` or `xs:attributeGroup ref=...`, appended to `out`.
    /// `groups` holds the attribute groups being expanded, to detect circular references.
    fn attribute_item(
        &mut self,
        node: Node<'a, 'input>,
        out: &mut Vec<AttributeUse>,
        groups: &mut HashSet<String>,
    ) -> Compiled<()> {
        match node.tag_name().name() {
            "attribute" => {
                self.check_attributes(node, &["id", "name", "type", "use"])?;
                let Some(name) = node.attribute("name") else {
                    return Err(self.invalid(node, "xs:attribute needs a name"));
                };
                let required = match node.attribute("use").unwrap_or("optional") {
                    "required" => true,
                    "optional" => false,
                    // A prohibited attribute is simply not declared: present means not allowed.
                    "prohibited" => return Ok(()),
                    other => return Err(self.invalid(node, &format!("bad use '{other}'"))),
                };
                let mut ty = match node.attribute("type") {
                    Some(qname) => self.simple_type_ref(node, qname)?,
                    None => None,
                };
                for child in self.children(node)? {
                    match child.tag_name().name() {
                        "simpleType" if node.attribute("type").is_none() => {
                            ty = Some(self.simple_type(child, None)?);
                        }
                        other => {
                            return Err(
                                self.unsupported(child, format!("xs:{other} in xs:attribute"))
                            )
                        }
                    }
                }
                out.push(AttributeUse {
                    name: name.to_string(),
                    ty,
                    required,
                });
                Ok(())
            }
            "attributeGroup" => {
                self.check_attributes(node, &["id", "ref"])?;
                let Some(qname) = node.attribute("ref") else {
                    return Err(self.invalid(node, "a local xs:attributeGroup needs ref"));
                };
                let name = match self.resolve_qname(node, qname)? {
                    TypeRef::Named(name) => name,
                    TypeRef::Builtin(_) => {
                        return Err(
                            self.invalid(node, &format!("unknown attribute group '{qname}'"))
                        )
                    }
                };
                let Some(def) = self.group_defs.get(name.as_str()).copied() else {
                    return Err(self.invalid(node, &format!("unknown attribute group '{qname}'")));
                };
                if !groups.insert(name.clone()) {
                    return Err(
                        self.invalid(node, &format!("attribute group '{name}' refers to itself"))
                    );
                }
                self.check_attributes(def, &["id", "name"])?;
                for child in self.children(def)? {
                    match child.tag_name().name() {
                        "attribute" | "attributeGroup" => {
                            self.attribute_item(child, out, groups)?
                        }
                        other => {
                            return Err(
                                self.unsupported(child, format!("xs:{other} in xs:attributeGroup"))
                            )
                        }
                    }
                }
                groups.remove(&name);
                Ok(())
            }
            other => Err(self.unsupported(node, format!("xs:{other}"))),
        }
    }

    // ----- simple types -----

    /// A simple type named by an attribute: `None` for `xs:string` (no facets to check).
    fn simple_type_ref(&mut self, at: Node<'a, 'input>, qname: &str) -> Compiled<Option<SimpleId>> {
        match self.resolve_qname(at, qname)? {
            TypeRef::Builtin(local) if local == "string" || local == "anySimpleType" => Ok(None),
            TypeRef::Builtin(local) => {
                Err(self.unsupported(at, format!("built-in type xs:{local}")))
            }
            TypeRef::Named(local) => self.named_simple(at, &local).map(Some),
        }
    }

    fn named_simple(&mut self, at: Node<'a, 'input>, name: &str) -> Compiled<SimpleId> {
        if let Some(id) = self.simple_ids.get(name) {
            return Ok(*id);
        }
        let Some(def) = self.simple_defs.get(name).copied() else {
            return Err(self.invalid(at, &format!("unknown simple type '{name}'")));
        };
        if !self.simple_in_progress.insert(name.to_string()) {
            return Err(self.invalid(def, &format!("simple type '{name}' derives from itself")));
        }
        let id = self.simple_type(def, Some(name))?;
        self.simple_in_progress.remove(name);
        self.simple_ids.insert(name.to_string(), id);
        Ok(id)
    }

    fn simple_type(&mut self, node: Node<'a, 'input>, name: Option<&str>) -> Compiled<SimpleId> {
        self.check_attributes(node, &["id", "name"])?;
        let children = self.children(node)?;
        let [restriction] = children.as_slice() else {
            return Err(self.invalid(node, "xs:simpleType needs exactly one xs:restriction"));
        };
        let restriction = *restriction;
        if restriction.tag_name().name() != "restriction" {
            return Err(self.unsupported(
                restriction,
                format!("xs:{} in xs:simpleType", restriction.tag_name().name()),
            ));
        }
        self.check_attributes(restriction, &["id", "base"])?;
        let Some(base) = restriction.attribute("base") else {
            return Err(self.unsupported(restriction, "xs:restriction without base".into()));
        };
        let base = self.simple_type_ref(restriction, base)?;
        let mut facets = Facets::default();
        for facet in self.children(restriction)? {
            let kind = facet.tag_name().name();
            if !matches!(
                kind,
                "length" | "minLength" | "maxLength" | "pattern" | "enumeration"
            ) {
                return Err(self.unsupported(facet, format!("facet xs:{kind}")));
            }
            self.check_attributes(facet, &["id", "value", "fixed"])?;
            if !self.children(facet)?.is_empty() {
                return Err(self.unsupported(facet, format!("content in xs:{kind}")));
            }
            let Some(value) = facet.attribute("value") else {
                return Err(self.invalid(facet, &format!("xs:{kind} needs a value")));
            };
            match kind {
                "pattern" => {
                    let translated = regex::translate(value).map_err(|problem| match problem {
                        regex::RegexProblem::Syntax(m) => {
                            self.invalid(facet, &format!("bad pattern '{value}': {m}"))
                        }
                        regex::RegexProblem::Unsupported(m) => {
                            self.unsupported(facet, format!("pattern '{value}': {m}"))
                        }
                    })?;
                    let compiled = ::regex::Regex::new(&translated)
                        .map_err(|e| self.unsupported(facet, format!("pattern '{value}': {e}")))?;
                    facets.patterns.push((value.to_string(), compiled));
                }
                "enumeration" => facets.enumeration.push(value.to_string()),
                _ => {
                    let n = value.parse::<usize>().map_err(|_| {
                        self.invalid(
                            facet,
                            &format!("xs:{kind} value '{value}' is not a non-negative integer"),
                        )
                    })?;
                    let slot = match kind {
                        "length" => &mut facets.length,
                        "minLength" => &mut facets.min_length,
                        _ => &mut facets.max_length,
                    };
                    if slot.replace(n).is_some() {
                        return Err(self.invalid(facet, &format!("xs:{kind} given twice")));
                    }
                }
            }
        }
        if let (Some(lo), Some(hi)) = (facets.min_length, facets.max_length) {
            if lo > hi {
                return Err(self.invalid(restriction, "minLength is greater than maxLength"));
            }
        }
        let id = SimpleId(self.schema.simple_types.len());
        let label = name.map_or_else(|| "anonymous type".to_string(), |n| format!("'{n}'"));
        self.schema.simple_types.push(SimpleType {
            label,
            base,
            facets,
        });
        Ok(id)
    }

    // ----- identity constraints -----

    fn unique(&mut self, node: Node<'a, 'input>) -> Compiled<Unique> {
        self.check_attributes(node, &["id", "name"])?;
        let Some(name) = node.attribute("name") else {
            return Err(self.invalid(node, "xs:unique needs a name"));
        };
        if !self.unique_names.insert(name.to_string()) {
            return Err(self.invalid(
                node,
                &format!("identity constraint '{name}' is defined twice"),
            ));
        }
        let children = self.children(node)?;
        let [selector, field] = children.as_slice() else {
            return Err(self.unsupported(
                node,
                "xs:unique with other than one selector and one field".into(),
            ));
        };
        if selector.tag_name().name() != "selector" || field.tag_name().name() != "field" {
            return Err(self.invalid(node, "xs:unique needs xs:selector then one xs:field"));
        }
        for part in [selector, field] {
            self.check_attributes(*part, &["id", "xpath"])?;
            if !self.children(*part)?.is_empty() {
                return Err(
                    self.unsupported(*part, "content in an identity constraint part".into())
                );
            }
        }
        let selector_path = selector.attribute("xpath").unwrap_or_default();
        let mut names = Vec::new();
        for step in selector_path.split('|') {
            let step = step.trim();
            let step = step.strip_prefix("./").unwrap_or(step);
            if !is_ncname(step) {
                return Err(self.unsupported(
                    *selector,
                    format!("selector '{selector_path}' (only a union of child element names)"),
                ));
            }
            names.push(step.to_string());
        }
        let field_path = field.attribute("xpath").unwrap_or_default().trim();
        let Some(attribute) = field_path.strip_prefix('@').filter(|a| is_ncname(a)) else {
            return Err(self.unsupported(*field, format!("field '{field_path}' (only @attribute)")));
        };
        Ok(Unique {
            name: name.to_string(),
            selector: names,
            field: attribute.to_string(),
        })
    }

    // ----- helpers -----

    /// Element children in the XSD namespace, skipping `xs:annotation`; text other than
    /// whitespace, and elements from other namespaces, are schema errors.
    fn children(&self, node: Node<'a, 'input>) -> Compiled<Vec<Node<'a, 'input>>> {
        let mut out = Vec::new();
        for child in node.children() {
            if child.is_text() {
                if child.text().is_some_and(|t| !t.chars().all(is_xml_space)) {
                    return Err(self.invalid(child, "unexpected text in the schema"));
                }
            } else if child.is_element() {
                if child.tag_name().namespace() != Some(XS) {
                    return Err(self.unsupported(
                        child,
                        format!("non-XSD element '{}'", child.tag_name().name()),
                    ));
                }
                if child.tag_name().name() != "annotation" {
                    out.push(child);
                }
            }
        }
        Ok(out)
    }

    /// Every unqualified attribute must be in `allowed`; attributes in other namespaces are
    /// allowed on schema components (XSD §3.15) and carry no meaning for validation.
    fn check_attributes(&self, node: Node<'a, 'input>, allowed: &[&str]) -> Compiled<()> {
        for attribute in node.attributes() {
            if attribute.namespace().is_none()
                && !allowed.contains(&attribute.name())
                && !COMMON.contains(&attribute.name())
            {
                return Err(self.unsupported(
                    node,
                    format!(
                        "attribute '{}' on xs:{}",
                        attribute.name(),
                        node.tag_name().name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn resolve_qname(&self, node: Node<'a, 'input>, qname: &str) -> Compiled<TypeRef> {
        let (prefix, local) = match qname.split_once(':') {
            Some((prefix, local)) => (Some(prefix), local),
            None => (None, qname),
        };
        let namespace = node.lookup_namespace_uri(prefix);
        match namespace {
            Some(XS) => Ok(TypeRef::Builtin(local.to_string())),
            // No targetNamespace: our own definitions are in no namespace.
            None if prefix.is_none() => Ok(TypeRef::Named(local.to_string())),
            None => Err(self.invalid(node, &format!("undeclared prefix in '{qname}'"))),
            Some(other) => Err(self.unsupported(node, format!("reference to namespace '{other}'"))),
        }
    }

    fn position(&self, node: Node<'a, 'input>) -> (u32, u32) {
        let pos = self.doc.text_pos_at(node.range().start);
        (pos.row, pos.col)
    }

    fn invalid(&self, node: Node<'a, 'input>, message: &str) -> Error {
        let (line, column) = self.position(node);
        Error::Schema {
            line,
            column,
            message: message.to_string(),
        }
    }

    fn unsupported(&self, node: Node<'a, 'input>, construct: String) -> Error {
        let (line, column) = self.position(node);
        Error::UnsupportedSchema {
            line,
            column,
            construct,
        }
    }
}

enum TypeRef {
    Builtin(String),
    Named(String),
}

fn is_xs(node: Node<'_, '_>, name: &str) -> bool {
    node.tag_name().namespace() == Some(XS) && node.tag_name().name() == name
}

/// XML whitespace: space, tab, CR, LF (not Unicode whitespace).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A conservative NCName check (ASCII letters, digits, `_`, `-`, `.`; not starting with a
/// digit, `-` or `.`), enough for the element and attribute names identity constraints name.
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
