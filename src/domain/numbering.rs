//! The v1 numbering: which number stands for which table, and within a table for which field.
//! Taken from the field catalogue (`v1` on its tables and fields), so that v1 and the named
//! formats share one source of field names; the v1 codec translates with it in both directions,
//! so that a v1 record is stored in the same named form as a v2 one.

use std::collections::HashMap;
use std::sync::Arc;

use super::fields::{FieldCatalogue, FieldsError};

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
    /// The numbering of the catalogue compiled into the binary.
    pub fn builtin() -> Numbering {
        Numbering::of(&FieldCatalogue::builtin()).expect("the built-in v1 numbering is valid (checked by a test)")
    }

    /// A numbering from the text of a field catalogue (the file's format).
    pub fn parse(text: &str) -> Result<Numbering, NumberingError> {
        let fields = FieldCatalogue::parse(text).map_err(NumberingError::Fields)?;
        Numbering::of(&fields)
    }

    /// The numbering a field catalogue gives: its tables with a `v1` number, and in each the
    /// fields with one (field numbers are checked unique by the catalogue itself).
    pub fn of(fields: &FieldCatalogue) -> Result<Numbering, NumberingError> {
        let mut entries: Vec<_> = fields.tables().filter(|t| t.v1.is_some()).collect();
        // Sorted so that an error about two tables sharing a number is the same on every start.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let mut tables: Vec<NumberedTable> = Vec::with_capacity(entries.len());
        let mut by_number = HashMap::new();
        let mut by_name = HashMap::new();
        for table in entries {
            let number = table.v1.expect("filtered above");
            let invalid = |m: String| Err(NumberingError::Invalid(format!("table {}: {m}", table.name)));
            if number == 0 {
                return invalid("table numbers start at 1".into());
            }
            if let Some(&other) = by_number.get(&number) {
                let other: &NumberedTable = &tables[other];
                return invalid(format!("number {number} is also table {}'s", other.name));
            }
            let numbered = table.fields.iter().filter_map(|f| Some((f.v1?, f.name.clone())));
            let field_names: HashMap<u32, String> = numbered.collect();
            let field_numbers = field_names.iter().map(|(n, name)| (name.clone(), *n)).collect();
            by_number.insert(number, tables.len());
            by_name.insert(table.name.clone(), tables.len());
            tables.push(NumberedTable {
                name: table.name.clone(),
                number,
                field_names,
                field_numbers,
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
    /// The field catalogue itself is invalid.
    #[error(transparent)]
    Fields(FieldsError),
    /// Two tables share a number, or a number is 0.
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
        let tables = "[tables.a]\nv1 = 1\nfields = [{ name = \"ID\", type = \"id\", v1 = 1 }]\n[tables.b]\nv1 = 1\nfields = [{ name = \"ID\", type = \"id\", v1 = 1 }]\n";
        let NumberingError::Invalid(message) = Numbering::parse(tables).unwrap_err() else {
            panic!("expected an invalid numbering")
        };
        assert!(
            message.contains("table b") && message.contains("table a's"),
            "{message}"
        );
        let fields = "[tables.a]\nv1 = 1\nfields = [{ name = \"ID\", type = \"id\", v1 = 1 }, { name = \"name\", type = \"text\", v1 = 1 }]\n";
        let NumberingError::Fields(FieldsError::Invalid(message)) = Numbering::parse(fields).unwrap_err() else {
            panic!("expected an invalid catalogue")
        };
        assert!(
            message.contains("fields ID and name share the v1 number 1"),
            "{message}"
        );
        assert!(Numbering::parse("[tables.a]\nv1 = 0\nfields = []\n").is_err());
        let unnumbered = Numbering::parse("[tables.a]\nfields = [{ name = \"ID\", type = \"id\" }]\n").unwrap();
        assert!(
            unnumbered.table_named("a").is_none(),
            "a table without a number is not in v1"
        );
    }
}
