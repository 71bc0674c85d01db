//! The compiled schema: an arena of element declarations, complex types and simple types
//! (indices instead of references), which `compile` builds and `validate` walks.

use std::collections::HashMap;

/// A compiled schema, ready to validate documents. Cheap to share: validation borrows it.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) globals: Vec<ElementId>,
    pub(crate) elements: Vec<ElementDecl>,
    pub(crate) complex_types: Vec<ComplexType>,
    pub(crate) simple_types: Vec<SimpleType>,
    /// Named complex types, for `xsi:type` in instances.
    pub(crate) complex_names: HashMap<String, ComplexId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ElementId(pub(crate) usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ComplexId(pub(crate) usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SimpleId(pub(crate) usize);

#[derive(Debug, Clone)]
pub(crate) struct ElementDecl {
    pub(crate) name: String,
    pub(crate) ty: ComplexId,
    pub(crate) uniques: Vec<Unique>,
}

#[derive(Debug, Clone)]
pub(crate) struct ComplexType {
    /// `None`: empty content. `Some`: element-only content, an ordered sequence.
    pub(crate) sequence: Option<Vec<Particle>>,
    pub(crate) attributes: Vec<AttributeUse>,
}

#[derive(Debug, Clone)]
pub(crate) struct Particle {
    pub(crate) name: String,
    pub(crate) element: ElementId,
    pub(crate) min: u32,
    /// `None` is `unbounded`.
    pub(crate) max: Option<u32>,
}

impl Particle {
    pub(crate) fn repeats(&self) -> bool {
        self.max.is_none_or(|m| m > 1)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AttributeUse {
    pub(crate) name: String,
    pub(crate) ty: Option<SimpleId>,
    pub(crate) required: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Unique {
    pub(crate) name: String,
    pub(crate) selector: Vec<String>,
    pub(crate) field: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SimpleType {
    /// For messages: the type's name, or `anonymous type`.
    pub(crate) label: String,
    /// `None` means the base is `xs:string`.
    pub(crate) base: Option<SimpleId>,
    pub(crate) facets: Facets,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Facets {
    pub(crate) length: Option<usize>,
    pub(crate) min_length: Option<usize>,
    pub(crate) max_length: Option<usize>,
    /// Patterns of one derivation step are alternatives (OR).
    pub(crate) patterns: Vec<(String, ::regex::Regex)>,
    pub(crate) enumeration: Vec<String>,
}

impl Schema {
    pub(crate) fn complex(&self, id: ComplexId) -> Option<&ComplexType> {
        self.complex_types.get(id.0)
    }

    pub(crate) fn element(&self, id: ElementId) -> Option<&ElementDecl> {
        self.elements.get(id.0)
    }

    pub(crate) fn simple(&self, id: SimpleId) -> Option<&SimpleType> {
        self.simple_types.get(id.0)
    }
}
