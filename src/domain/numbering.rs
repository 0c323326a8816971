//! The v1 numbering: which number stands for which table, and within a table for which field.
//! Read from `configs/v1-numbers.toml` (or the operator's copy); the v1 codec translates with it
//! in both directions, so that a v1 record is stored in the same named form as a v2 one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::config::ConfigError;

/// The numbering shipped with the binary, used when `[v1] numbers_file` is not set.
pub const DEFAULT_NUMBERS_TOML: &str = include_str!("../../configs/v1-numbers.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NumbersFile {
    tables: HashMap<String, TableFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    number: u32,
    fields: HashMap<String, u32>,
}

/// One numbered table: its name and its fields both ways.
#[derive(Debug)]
pub struct NumberedTable {
    pub name: String,
    pub number: u32,
    field_names: HashMap<u32, String>,
    field_numbers: HashMap<String, u32>,
}

impl NumberedTable {
    pub fn field_name(&self, number: u32) -> Option<&str> {
        self.field_names.get(&number).map(String::as_str)
    }

    pub fn field_number(&self, name: &str) -> Option<u32> {
        self.field_numbers.get(name).copied()
    }
}

/// The validated numbering; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Numbering {
    tables: Arc<Vec<NumberedTable>>,
    by_number: Arc<HashMap<u32, usize>>,
    by_name: Arc<HashMap<String, usize>>,
}

impl Numbering {
    /// The numbering compiled into the binary.
    pub fn builtin() -> Numbering {
        Numbering::parse(DEFAULT_NUMBERS_TOML).expect("the built-in v1 numbering is valid (checked by a test)")
    }

    pub fn load(path: &Path) -> Result<Numbering, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Numbering::parse(&text).map_err(|error| match error {
            NumberingError::Toml(source) => ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            },
            NumberingError::Invalid(message) => ConfigError::Invalid(format!("{}: {message}", path.display())),
        })
    }

    /// A numbering from TOML text (the file's format).
    pub fn parse(text: &str) -> Result<Numbering, NumberingError> {
        let file: NumbersFile = toml::from_str(text).map_err(NumberingError::Toml)?;
        let mut tables: Vec<NumberedTable> = Vec::with_capacity(file.tables.len());
        let mut by_number = HashMap::new();
        let mut by_name = HashMap::new();
        // Sorted so that an error about two tables sharing a number is the same on every start.
        let mut entries: Vec<(String, TableFile)> = file.tables.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, table) in entries {
            let invalid = |m: String| Err(NumberingError::Invalid(format!("table {name}: {m}")));
            if table.number == 0 {
                return invalid("table numbers start at 1".into());
            }
            if let Some(&other) = by_number.get(&table.number) {
                let other: &NumberedTable = &tables[other];
                return invalid(format!("number {} is also table {}'s", table.number, other.name));
            }
            let mut field_names = HashMap::with_capacity(table.fields.len());
            for (field, &number) in &table.fields {
                if number == 0 {
                    return invalid(format!("field {field}: field numbers start at 1"));
                }
                if let Some(other) = field_names.insert(number, field.clone()) {
                    let (a, b) = if other < *field {
                        (&other, field)
                    } else {
                        (field, &other)
                    };
                    return invalid(format!("fields {a} and {b} share the number {number}"));
                }
            }
            by_number.insert(table.number, tables.len());
            by_name.insert(name.clone(), tables.len());
            tables.push(NumberedTable {
                name,
                number: table.number,
                field_names,
                field_numbers: table.fields,
            });
        }
        Ok(Numbering {
            tables: Arc::new(tables),
            by_number: Arc::new(by_number),
            by_name: Arc::new(by_name),
        })
    }

    pub fn table_numbered(&self, number: u32) -> Option<&NumberedTable> {
        self.by_number.get(&number).map(|&i| &self.tables[i])
    }

    pub fn table_named(&self, name: &str) -> Option<&NumberedTable> {
        self.by_name.get(name).map(|&i| &self.tables[i])
    }
}

impl Default for Numbering {
    fn default() -> Self {
        Numbering::builtin()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NumberingError {
    #[error(transparent)]
    Toml(toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_numbering_numbers_every_routed_table_both_ways() {
        let numbering = Numbering::builtin();
        let item = numbering.table_named("item").unwrap();
        assert_eq!(numbering.table_numbered(item.number).unwrap().name, "item");
        assert_eq!(
            item.field_name(item.field_number("item_name").unwrap()),
            Some("item_name")
        );
        for table in [
            "store",
            "name",
            "name_store_join",
            "transact",
            "trans_line",
            "Stock_take_lines",
        ] {
            let numbered = numbering
                .table_named(table)
                .unwrap_or_else(|| panic!("{table} is numbered"));
            assert_eq!(numbered.field_number("ID"), Some(1), "{table}");
        }
        assert!(numbering.table_numbered(0).is_none());
        assert!(numbering.table_named("Item").is_none(), "names are case-sensitive");
    }

    #[test]
    fn shared_numbers_are_refused_with_both_names() {
        let tables = "[tables.a]\nnumber = 1\nfields = { ID = 1 }\n[tables.b]\nnumber = 1\nfields = { ID = 1 }\n";
        let NumberingError::Invalid(message) = Numbering::parse(tables).unwrap_err() else {
            panic!("expected an invalid numbering")
        };
        assert!(
            message.contains("table b") && message.contains("table a's"),
            "{message}"
        );
        let fields = "[tables.a]\nnumber = 1\nfields = { ID = 1, name = 1 }\n";
        let NumberingError::Invalid(message) = Numbering::parse(fields).unwrap_err() else {
            panic!("expected an invalid numbering")
        };
        assert!(message.contains("fields ID and name share the number 1"), "{message}");
        assert!(Numbering::parse("[tables.a]\nnumber = 0\nfields = {}\n").is_err());
        assert!(Numbering::parse("[tables.a]\nnumber = 2\nfields = { ID = 0 }\n").is_err());
        assert!(
            Numbering::parse("[tables.a]\nnumber = 2\n").is_err(),
            "fields are required"
        );
    }
}
