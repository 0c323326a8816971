//! The field catalogue: for every table a satellite may receive, the fields of its row as the
//! legacy primary keeps them, in order, each with its type, its default, the clients that need it
//! filled, and its v1 number. Read from `configs/fields.toml` (or the operator's copy).
//!
//! It decides what a stored row is (see [`super::row`]): pushes are completed and merged into
//! whole rows, and every value is kept in the legacy text form its type gives.

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};
use serde::Deserialize;

/// The catalogue shipped with the binary, used when `fields_file` is not set.
pub const DEFAULT_FIELDS_TOML: &str = include_str!("../../configs/fields.toml");

/// How a field's value is read and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A string, kept as sent.
    Text,
    /// A record id or a link to one: a string whose case is never changed.
    Id,
    /// An integer, kept as its decimal text.
    Int,
    /// A decimal number, kept as its text.
    Num,
    /// `"true"` or `"false"`.
    Bool,
    /// `YYYY-MM-DDT00:00:00`, or `0000-00-00T00:00:00` for none.
    Date,
    /// `HH:MM:SS`.
    Time,
    /// `YYYY-MM-DDTHH:MM:SS`, or `""` for none.
    Datetime,
    /// A JSON document kept as text.
    Json,
}

impl FieldType {
    /// The text a field of this type holds when it has no value.
    pub fn none_value(self) -> &'static str {
        match self {
            FieldType::Text | FieldType::Id | FieldType::Datetime | FieldType::Json => "",
            FieldType::Int | FieldType::Num => "0",
            FieldType::Bool => "false",
            FieldType::Date => ZERO_DATE,
            FieldType::Time => "00:00:00",
        }
    }
}

/// The legacy primary's "no date".
pub const ZERO_DATE: &str = "0000-00-00T00:00:00";

/// The default that stands for the day of the insert.
const TODAY: &str = "today";

/// A client that needs a field filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Client {
    /// mSupply Mobile since 2017 (`/sync/v3/`).
    Mobile,
    /// The 2017 mSupply Mobile app (`/sync/v2/`).
    Mobile2017,
    /// open-mSupply's v5 translators.
    V5,
}

/// How v5 carries a field, where it differs from what the field's type gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum V5Kind {
    Str,
    Int,
    Num,
    Bool,
    /// A plain `YYYY-MM-DD` that must be a real date.
    Date,
    /// `YYYY-MM-DD`, or `0000-00-00` for none.
    Zdate,
    /// `YYYY-MM-DDTHH:MM:SS`.
    Dt,
    /// Seconds since midnight.
    Secs,
    /// A JSON value.
    Json,
    /// A number, or null for none.
    NumOrNull,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldsFile {
    tables: std::collections::HashMap<String, TableFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default)]
    v1: Option<u32>,
    fields: Vec<FieldFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFile {
    name: String,
    #[serde(rename = "type")]
    kind: FieldType,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    v1: Option<u32>,
    #[serde(default)]
    need: Vec<Client>,
    #[serde(default)]
    pushed_as: Vec<String>,
    #[serde(default)]
    v5: Option<V5Kind>,
    #[serde(default)]
    v5_strings: Vec<String>,
}

/// One field of a table.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: FieldType,
    /// What an insert without the field gets, in text form (for a `today` default, the zero date:
    /// the day is the insert's, given to [`super::row::merge`]).
    pub default: String,
    /// The default is the day of the insert.
    pub default_today: bool,
    /// The default as a JSON string literal, ready to write.
    pub default_json: Box<[u8]>,
    /// `"name":`, ready to write.
    pub key_json: Box<[u8]>,
    pub v1: Option<u32>,
    pub need: Vec<Client>,
    pub pushed_as: Vec<String>,
    pub v5: Option<V5Kind>,
    /// Keys of a JSON document field whose numbers v5 carries as strings (open-mSupply reads
    /// `pref.data.monthsLeadTime` as a string, mSupply Mobile as a number).
    pub v5_strings: Vec<String>,
    /// The field's own name is also another field's other name (`donor_id`): looked up in full.
    pub shared_key: bool,
}

impl Field {
    pub fn needed_by(&self, client: Client) -> bool {
        self.need.contains(&client)
    }
}

/// Where a key of a pushed row lands: a field, directly or through one of its other names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub field: u16,
    pub alias: bool,
}

/// The fields of one table, in row order, and every key that names one.
#[derive(Debug)]
pub struct TableFields {
    pub name: String,
    /// The table's v1 number.
    pub v1: Option<u32>,
    pub fields: Vec<Field>,
    /// Key → the fields it writes (a key can be a field's own name and another's alias).
    slots: HashMap<Box<str>, Vec<Slot>>,
    /// Each field's own slot, by position.
    pub direct: Vec<Slot>,
    /// Every field with its default, as members of a row (`"a":"",…`): runs of defaults are
    /// copied from it whole.
    pub defaults_row: Vec<u8>,
    /// Each field's member in `defaults_row`: (start, end).
    pub default_spans: Vec<(usize, usize)>,
}

impl TableFields {
    /// The fields a pushed key writes; empty for a key the catalogue does not know.
    pub fn slots(&self, key: &str) -> &[Slot] {
        self.slots.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The position of the field named exactly `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.slots(name).iter().find(|s| !s.alias).map(|s| s.field as usize)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.position(name).map(|i| &self.fields[i])
    }
}

/// The validated catalogue; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct FieldCatalogue {
    tables: Arc<HashMap<String, Arc<TableFields>>>,
}

impl FieldCatalogue {
    /// The catalogue compiled into the binary.
    pub fn builtin() -> FieldCatalogue {
        FieldCatalogue::parse(DEFAULT_FIELDS_TOML).expect("the built-in field catalogue is valid (checked by a test)")
    }

    /// A catalogue from TOML text (the file's format); the file is read by `config`.
    pub fn parse(text: &str) -> Result<FieldCatalogue, FieldsError> {
        let file: FieldsFile = toml::from_str(text).map_err(FieldsError::Toml)?;
        let mut tables = HashMap::with_capacity(file.tables.len());
        for (name, table) in file.tables {
            let checked = check_table(&name, table).map_err(|m| FieldsError::Invalid(format!("table {name}: {m}")))?;
            tables.insert(name, Arc::new(checked));
        }
        Ok(FieldCatalogue {
            tables: Arc::new(tables),
        })
    }

    /// The fields of `table`, if the catalogue knows it.
    pub fn table(&self, table: &str) -> Option<&Arc<TableFields>> {
        self.tables.get(table)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableFields>> {
        self.tables.values()
    }
}

impl Default for FieldCatalogue {
    fn default() -> Self {
        FieldCatalogue::builtin()
    }
}

fn check_table(name: &str, table: TableFile) -> Result<TableFields, String> {
    if table.fields.len() > u16::MAX as usize {
        return Err("too many fields".into());
    }
    let mut fields = Vec::with_capacity(table.fields.len());
    let mut slots: HashMap<Box<str>, Vec<Slot>> = HashMap::with_capacity(table.fields.len() * 2);
    let mut numbers = HashMap::new();
    for (i, file) in table.fields.into_iter().enumerate() {
        let default_today = file.default.as_deref() == Some(TODAY);
        if default_today && file.kind != FieldType::Date {
            return Err(format!("field {}: only a date defaults to \"{TODAY}\"", file.name));
        }
        let default = match file.default {
            Some(text) if text != TODAY => text,
            _ => file.kind.none_value().to_string(),
        };
        super::values::check_text(file.kind, &default)
            .map_err(|e| format!("field {}: default {default:?} is not a {:?}: {e}", file.name, file.kind))?;
        if let Some(number) = file.v1 {
            if number == 0 {
                return Err(format!("field {}: v1 numbers start at 1", file.name));
            }
            if let Some(other) = numbers.insert(number, file.name.clone()) {
                return Err(format!("fields {other} and {} share the v1 number {number}", file.name));
            }
        }
        let direct = slots.entry(file.name.as_str().into()).or_default();
        if direct.iter().any(|s| !s.alias) {
            return Err(format!("field {} is listed twice", file.name));
        }
        if !file.v5_strings.is_empty() && file.kind != FieldType::Json {
            return Err(format!("field {}: v5_strings is for json fields", file.name));
        }
        direct.push(Slot {
            field: i as u16,
            alias: false,
        });
        for alias in &file.pushed_as {
            slots.entry(alias.as_str().into()).or_default().push(Slot {
                field: i as u16,
                alias: true,
            });
        }
        let mut key_json = Vec::with_capacity(file.name.len() + 3);
        crate::domain::row::write_json_string(&mut key_json, &file.name);
        key_json.push(b':');
        let mut default_json = Vec::with_capacity(default.len() + 2);
        crate::domain::row::write_json_string(&mut default_json, &default);
        fields.push(Field {
            name: file.name,
            kind: file.kind,
            default,
            default_today,
            default_json: default_json.into(),
            key_json: key_json.into(),
            v1: file.v1,
            need: file.need,
            pushed_as: file.pushed_as,
            v5: file.v5,
            v5_strings: file.v5_strings,
            shared_key: false,
        });
    }
    for (key, landing) in &slots {
        if landing.iter().filter(|s| s.alias).count() > 1 {
            return Err(format!("{key} is another name of more than one field"));
        }
    }
    for field in &mut fields {
        field.shared_key = slots[field.name.as_str()].len() > 1;
    }
    let direct = (0..fields.len())
        .map(|i| Slot {
            field: i as u16,
            alias: false,
        })
        .collect();
    let mut defaults_row = Vec::new();
    let mut default_spans = Vec::with_capacity(fields.len());
    for field in &fields {
        if !defaults_row.is_empty() {
            defaults_row.push(b',');
        }
        let start = defaults_row.len();
        defaults_row.extend_from_slice(&field.key_json);
        defaults_row.extend_from_slice(&field.default_json);
        default_spans.push((start, defaults_row.len()));
    }
    Ok(TableFields {
        name: name.to_string(),
        v1: table.v1,
        fields,
        slots,
        direct,
        defaults_row,
        default_spans,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum FieldsError {
    #[error(transparent)]
    Toml(toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[tables.item_line]
v1 = 16
fields = [
  { name = "ID", type = "id", v1 = 1 },
  { name = "quantity", type = "num", v1 = 2, need = ["mobile"] },
  { name = "pack_size", type = "num", default = "1", v1 = 3 },
  { name = "donor_id", type = "id", v1 = 4 },
  { name = "donor_ID", type = "id", v1 = 5, pushed_as = ["donor_id"] },
  { name = "expiry_date", type = "date", v5 = "zdate" },
  { name = "entered", type = "date", default = "today" },
]
"#;

    #[test]
    fn fields_keep_their_order_defaults_and_other_names() {
        let catalogue = FieldCatalogue::parse(SAMPLE).unwrap();
        let table = catalogue.table("item_line").unwrap();
        let names: Vec<&str> = table.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ID",
                "quantity",
                "pack_size",
                "donor_id",
                "donor_ID",
                "expiry_date",
                "entered"
            ]
        );
        let entered = table.field("entered").unwrap();
        assert!(entered.default_today && !table.field("expiry_date").unwrap().default_today);
        assert_eq!(table.field("pack_size").unwrap().default, "1");
        assert_eq!(table.field("quantity").unwrap().default, "0");
        assert_eq!(table.field("expiry_date").unwrap().default, ZERO_DATE);
        assert_eq!(
            &*table.field("expiry_date").unwrap().default_json,
            b"\"0000-00-00T00:00:00\""
        );
        assert_eq!(&*table.field("ID").unwrap().key_json, b"\"ID\":");
        assert!(table.field("quantity").unwrap().needed_by(Client::Mobile));
        // `donor_id` is a field of its own and another name of donor_ID.
        let landing = table.slots("donor_id");
        assert_eq!(landing.len(), 2);
        assert!(landing.contains(&Slot { field: 3, alias: false }));
        assert!(landing.contains(&Slot { field: 4, alias: true }));
        assert_eq!(table.position("donor_ID"), Some(4));
        assert!(table.slots("unknown").is_empty());
        assert!(catalogue.table("Item_line").is_none(), "names are case-sensitive");
    }

    #[test]
    fn bad_catalogues_are_refused_naming_the_problem() {
        let refused = |text: &str, wanted: &str| {
            let FieldsError::Invalid(message) = FieldCatalogue::parse(text).unwrap_err() else {
                panic!("expected an invalid catalogue for {text}")
            };
            assert!(message.contains(wanted), "{message}");
        };
        refused(
            "[tables.a]\nfields = [{ name = \"n\", type = \"int\", default = \"x\" }]",
            "default \"x\"",
        );
        refused(
            "[tables.a]\nfields = [{ name = \"n\", type = \"text\", v1 = 1 }, { name = \"m\", type = \"text\", v1 = 1 }]",
            "share the v1 number 1",
        );
        refused(
            "[tables.a]\nfields = [{ name = \"n\", type = \"text\" }, { name = \"n\", type = \"int\" }]",
            "listed twice",
        );
        refused(
            "[tables.a]\nfields = [{ name = \"n\", type = \"text\", v1 = 0 }]",
            "start at 1",
        );
        refused(
            "[tables.a]\nfields = [{ name = \"n\", type = \"text\", default = \"today\" }]",
            "only a date",
        );
        assert!(matches!(
            FieldCatalogue::parse("[tables.a]\nfields = [{ name = \"n\", type = \"float\" }]"),
            Err(FieldsError::Toml(_))
        ));
    }
}
