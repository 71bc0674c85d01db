//! Register metadata (derived from the system log) and the validation rules of registers.md §3.

use std::collections::BTreeMap;

use crate::datatype::Datatype;
use crate::error::Error;
use crate::item::{Item, ItemView, ValueView};

/// How strictly entries are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Rules 1–5 of registers.md §3 (the default).
    #[default]
    Strict,
    /// Skips rules 3 (primary field equals key) and 5 (identical entries), and accepts user
    /// entries before the metadata that would describe them. Real production RSF needs it.
    Relaxed,
}

impl Mode {
    /// [`Mode::Relaxed`] when `relaxed` (a flag or query parameter), else [`Mode::Strict`].
    pub fn relaxed_if(relaxed: bool) -> Mode {
        if relaxed {
            Mode::Relaxed
        } else {
            Mode::Strict
        }
    }
}

/// Cardinality of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// One string.
    One,
    /// A list of strings.
    Many,
}

impl Cardinality {
    fn symbol(self) -> char {
        match self {
            Cardinality::One => '1',
            Cardinality::Many => 'n',
        }
    }
}

/// A field definition (`field:<name>` system record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// Field name.
    pub name: String,
    /// The datatype.
    pub datatype: Datatype,
    /// Cardinality.
    pub cardinality: Cardinality,
    /// The register this field links to, if any (makes bare CURIEs valid).
    pub register: Option<String>,
    /// The definition item as stored.
    pub item: Item,
}

/// A register definition (`register:<id>` system record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterDef {
    /// The register id.
    pub id: String,
    /// The fields, in declared order.
    pub fields: Vec<String>,
    /// The definition item as stored (served as `register-record`).
    pub item: Item,
}

/// An index declaration (`index:<name>` system record, registers.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    /// Index name.
    pub name: String,
    /// The register field whose values key the index.
    pub field: String,
}

/// What the system log says about a register: the latest system record of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Register id (`name` record).
    pub name: Option<String>,
    /// Human title (`register-name` record).
    pub register_name: Option<String>,
    /// Person responsible (`custodian` record).
    pub custodian: Option<String>,
    /// Register definitions by id.
    pub registers: BTreeMap<String, RegisterDef>,
    /// Field definitions by name.
    pub fields: BTreeMap<String, FieldDef>,
    /// Index declarations by name.
    pub indexes: BTreeMap<String, IndexDef>,
}

fn first_string<'v>(item: &'v ItemView<'_>, field: &str) -> Option<&'v str> {
    match item.get(field)? {
        ValueView::String(s) => Some(s.as_ref()),
        ValueView::List(_) => None,
    }
}

impl Metadata {
    /// The definition of this register (`register:<name>`).
    pub fn register_definition(&self) -> Option<&RegisterDef> {
        self.registers.get(self.name.as_deref()?)
    }

    /// Applies a system entry's items. A malformed metadata item is an error in strict mode and
    /// is left out of the metadata in relaxed mode.
    pub fn apply(&mut self, key: &str, items: &[ItemView<'_>], mode: Mode) -> Result<(), Error> {
        match self.try_apply(key, items) {
            Err(reason) if mode == Mode::Strict => Err(Error::InvalidMetadata {
                key: key.to_string(),
                reason,
            }),
            _ => Ok(()),
        }
    }

    fn try_apply(&mut self, key: &str, items: &[ItemView<'_>]) -> Result<(), String> {
        let item = match items {
            [item] => item,
            _ => return Err("a metadata entry has exactly one item".into()),
        };
        let string = |field: &str| {
            first_string(item, field)
                .map(str::to_string)
                .ok_or_else(|| format!("the item needs a string field '{field}'"))
        };
        match key {
            "name" => self.name = Some(string("name")?),
            "register-name" => self.register_name = Some(string("register-name")?),
            "custodian" => self.custodian = Some(string("custodian")?),
            _ => {
                if let Some(name) = key.strip_prefix("field:") {
                    let def = field_def(name, item, &string)?;
                    self.fields.insert(name.to_string(), def);
                } else if let Some(id) = key.strip_prefix("register:") {
                    if string("register")? != id {
                        return Err(format!("its 'register' field must be '{id}'"));
                    }
                    let fields = match item.get("fields") {
                        Some(ValueView::List(list)) => list.iter().map(|f| f.to_string()).collect(),
                        _ => return Err("the item needs a list field 'fields'".into()),
                    };
                    let def = RegisterDef {
                        id: id.to_string(),
                        fields,
                        item: item.to_item(),
                    };
                    self.registers.insert(id.to_string(), def);
                } else if let Some(name) = key.strip_prefix("index:") {
                    if string("index")? != name {
                        return Err(format!("its 'index' field must be '{name}'"));
                    }
                    let def = IndexDef {
                        name: name.to_string(),
                        field: string("field")?,
                    };
                    self.indexes.insert(name.to_string(), def);
                }
                // Other system keys are kept in the log but carry no meaning here.
            }
        }
        Ok(())
    }

    /// Checks the items of a user entry against rules 1–4 (rule 5 needs the log; the loader
    /// checks it). In relaxed mode rule 3 is skipped, and so is everything the metadata does
    /// not describe yet.
    pub fn validate_user_entry(
        &self,
        key: &str,
        items: &[ItemView<'_>],
        mode: Mode,
    ) -> Result<(), Error> {
        let strict = mode == Mode::Strict;
        let register = match (self.name.as_deref(), self.register_definition()) {
            (_, Some(register)) => register,
            _ if !strict => return Ok(()),
            (None, None) => return Err(Error::MissingName),
            (Some(name), None) => return Err(Error::MissingRegisterDefinition(name.to_string())),
        };
        if strict {
            if let Some(missing) = register
                .fields
                .iter()
                .find(|f| !self.fields.contains_key(*f))
            {
                return Err(Error::MissingFieldDefinition(missing.clone()));
            }
        }
        for item in items {
            for (field, value) in item.fields() {
                if !register.fields.iter().any(|f| f == field) {
                    return Err(Error::UnknownField(field.to_string()));
                }
                if let Some(def) = self.fields.get(field) {
                    check_value(def, value)?;
                }
            }
            if strict {
                let primary = register.id.as_str();
                match first_string(item, primary) {
                    Some(value) if !value.trim().is_empty() => {
                        if value != key {
                            return Err(Error::PrimaryFieldMismatch {
                                field: primary.to_string(),
                                value: shorten(value),
                                key: key.to_string(),
                            });
                        }
                    }
                    _ => return Err(Error::MissingPrimaryField(primary.to_string())),
                }
            }
        }
        Ok(())
    }
}

fn field_def(
    name: &str,
    item: &ItemView<'_>,
    string: &dyn Fn(&str) -> Result<String, String>,
) -> Result<FieldDef, String> {
    if string("field")? != name {
        return Err(format!("its 'field' field must be '{name}'"));
    }
    let datatype_name = string("datatype")?;
    let datatype = Datatype::from_name(&datatype_name)
        .ok_or_else(|| format!("datatype '{datatype_name}' is not known"))?;
    let cardinality = match string("cardinality")?.as_str() {
        "1" => Cardinality::One,
        "n" => Cardinality::Many,
        other => return Err(format!("cardinality '{other}' must be '1' or 'n'")),
    };
    Ok(FieldDef {
        name: name.to_string(),
        datatype,
        cardinality,
        register: first_string(item, "register").map(str::to_string),
        item: item.to_item(),
    })
}

fn check_value(def: &FieldDef, value: &ValueView<'_>) -> Result<(), Error> {
    let cardinality_ok = matches!(
        (def.cardinality, value),
        (Cardinality::One, ValueView::String(_)) | (Cardinality::Many, ValueView::List(_))
    );
    if !cardinality_ok {
        return Err(Error::WrongCardinality {
            field: def.name.clone(),
            cardinality: def.cardinality.symbol(),
        });
    }
    for s in value.strings() {
        if !def.datatype.is_valid(s, def.register.is_some()) {
            return Err(Error::InvalidValue {
                field: def.name.clone(),
                value: shorten(s),
                datatype: def.datatype.name(),
            });
        }
    }
    Ok(())
}

/// Errors quote values, but never more than a short excerpt of them.
fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}
