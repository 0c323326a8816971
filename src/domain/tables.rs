//! The table catalogue: how each table is routed, the order of an initial dump, and which tables
//! a mobile (non-full) dump carries. Read from `configs/tables.toml`.

use std::collections::HashMap;

use serde::Deserialize;

/// The table catalogue compiled into the binary, the one `configs/tables.toml` ships.
pub const DEFAULT_TABLES_TOML: &str = include_str!("../../configs/tables.toml");

/// How the sites that receive a table's records are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// Every satellite receives it.
    Central,
    /// The sites hosting the stores the record names receive it.
    Store,
    /// `name`: central, except patients, which go to the stores they are joined to.
    Name,
    /// `name_store_join`: routed like a store table, and it makes its patient visible to the store.
    NameStoreJoin,
    /// A line: wherever its header (`parent_table`, named by `parent_field`) goes; like a store
    /// table until its header is known.
    Parent,
    /// Follows a name (`name_field`): the store whose own name it is and the stores the name is
    /// joined to, plus the stores it names itself (a patient's notes, a list joined to a name).
    JoinedName,
}

/// Routing of one table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRoute {
    pub route: RouteKind,
    /// Fields of `data` holding store ids the record concerns (besides the envelope `StoreID`).
    #[serde(default)]
    pub store_fields: Vec<String>,
    /// Fields of `data` holding name ids; a name that is a store's name brings that store in
    /// (a supplier invoice to another store, a requisition to a supplying store).
    #[serde(default)]
    pub store_name_fields: Vec<String>,
    /// Fields of `data` holding name ids whose store is brought in only when that store's site
    /// builds its own half of a transfer (open-mSupply): an outbound shipment or a request
    /// requisition goes to it as it is. A store whose half the primary generates is not sent it.
    #[serde(default)]
    pub transfer_name_fields: Vec<String>,
    /// For `name`: the field and value that mark a patient.
    #[serde(default)]
    pub patient_field: Option<String>,
    #[serde(default)]
    pub patient_value: Option<String>,
    /// For `name_store_join` and `joined_name`: the field naming the name.
    #[serde(default)]
    pub name_field: Option<String>,
    /// For `parent`: the header's table and the field holding the header's id.
    #[serde(default)]
    pub parent_table: Option<String>,
    #[serde(default)]
    pub parent_field: Option<String>,
}

impl TableRoute {
    pub fn central() -> TableRoute {
        TableRoute {
            route: RouteKind::Central,
            store_fields: Vec::new(),
            store_name_fields: Vec::new(),
            transfer_name_fields: Vec::new(),
            patient_field: None,
            patient_value: None,
            name_field: None,
            parent_table: None,
            parent_field: None,
        }
    }

    /// The field a record of this table refers to another by, for the routes that follow one:
    /// (the table referred to, the field). A line's header, or the name a record follows.
    pub fn followed(&self) -> Option<(&str, &str)> {
        match self.route {
            RouteKind::Parent => Some((self.parent_table.as_deref()?, self.parent_field.as_deref()?)),
            RouteKind::JoinedName => Some(("name", self.name_field.as_deref()?)),
            _ => None,
        }
    }

    /// Every `data` field routing reads for this table, in a fixed order.
    pub fn routing_fields(&self) -> Vec<&str> {
        let mut fields: Vec<&str> = Vec::new();
        fields.extend(self.store_fields.iter().map(String::as_str));
        fields.extend(self.store_name_fields.iter().map(String::as_str));
        fields.extend(self.transfer_name_fields.iter().map(String::as_str));
        fields.extend(self.patient_field.as_deref());
        fields.extend(self.name_field.as_deref());
        fields.extend(self.parent_field.as_deref());
        fields
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    dump_order: Vec<String>,
    mobile_tables: Vec<String>,
    #[serde(default)]
    not_for_mobile_2017: Vec<String>,
    default: TableRoute,
    tables: HashMap<String, TableRoute>,
}

/// The validated catalogue.
#[derive(Debug, Clone)]
pub struct TableCatalogue {
    dump_order: Vec<String>,
    mobile_tables: Vec<String>,
    /// Tables never sent to a site that syncs as the 2017 mobile app.
    not_for_mobile_2017: Vec<String>,
    default: TableRoute,
    tables: HashMap<String, TableRoute>,
    /// Table → the (table, field) of the records that follow its records (see `followed`).
    followers: HashMap<String, Vec<(String, String)>>,
}

impl TableCatalogue {
    /// The catalogue compiled into the binary (`configs/tables.toml`).
    pub fn builtin() -> TableCatalogue {
        TableCatalogue::parse(DEFAULT_TABLES_TOML).expect("the built-in table catalogue is valid (checked by a test)")
    }

    /// A catalogue from TOML text (the file's format); the file is read by `config`.
    pub fn parse(text: &str) -> Result<TableCatalogue, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text).map_err(CatalogueError::Toml)?;
        for (name, route) in file.tables.iter().chain([(&"default".to_string(), &file.default)]) {
            let needs_patient = route.route == RouteKind::Name;
            if needs_patient && (route.patient_field.is_none() || route.patient_value.is_none()) {
                return Err(CatalogueError::Invalid(format!(
                    "table {name}: route \"name\" needs patient_field and patient_value"
                )));
            }
            let needs_name = matches!(route.route, RouteKind::NameStoreJoin | RouteKind::JoinedName);
            if needs_name && route.name_field.is_none() {
                return Err(CatalogueError::Invalid(format!(
                    "table {name}: routes \"name_store_join\" and \"joined_name\" need name_field"
                )));
            }
            if route.route == RouteKind::Parent {
                match (&route.parent_table, &route.parent_field) {
                    (Some(parent), Some(_)) if parent == name => {
                        return Err(CatalogueError::Invalid(format!(
                            "table {name}: a table is not its own parent"
                        )))
                    }
                    (Some(_), Some(_)) => {}
                    _ => {
                        return Err(CatalogueError::Invalid(format!(
                            "table {name}: route \"parent\" needs parent_table and parent_field"
                        )))
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for table in &file.dump_order {
            if !seen.insert(table) {
                return Err(CatalogueError::Invalid(format!(
                    "table {table} appears twice in dump_order"
                )));
            }
        }
        let mut followers: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (table, route) in &file.tables {
            if let Some((followed, field)) = route.followed() {
                followers
                    .entry(followed.to_string())
                    .or_default()
                    .push((table.clone(), field.to_string()));
            }
        }
        for list in followers.values_mut() {
            list.sort();
        }
        Ok(TableCatalogue {
            dump_order: file.dump_order,
            mobile_tables: file.mobile_tables,
            not_for_mobile_2017: file.not_for_mobile_2017,
            default: file.default,
            tables: file.tables,
            followers,
        })
    }

    /// The routing of `table`, or the default for tables the catalogue does not list.
    pub fn route(&self, table: &str) -> &TableRoute {
        self.tables.get(table).unwrap_or(&self.default)
    }

    /// The tables whose records follow records of `table` (lines of a header, records that
    /// follow a name), with the field that refers to it.
    pub fn followers(&self, table: &str) -> &[(String, String)] {
        self.followers.get(table).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every (table, field) by which a table's records follow another's.
    pub fn followed_references(&self) -> impl Iterator<Item = (&str, &str)> {
        self.followers
            .values()
            .flatten()
            .map(|(table, field)| (table.as_str(), field.as_str()))
    }

    /// The tables a site that syncs as the 2017 mobile app never receives.
    pub fn not_for_mobile_2017(&self) -> &[String] {
        &self.not_for_mobile_2017
    }

    /// Whether a mobile (non-full) initial dump carries `table`.
    pub fn in_mobile_subset(&self, table: &str) -> bool {
        self.mobile_tables.iter().any(|t| t == table)
    }

    /// The order in which a dump delivers `present` tables: the configured order first, then any
    /// other table by name. With `mobile_only`, tables outside the mobile subset are left out.
    pub fn dump_tables<'a>(&self, present: impl IntoIterator<Item = &'a str>, mobile_only: bool) -> Vec<String> {
        let present: Vec<&str> = present.into_iter().collect();
        let mut rest: Vec<&str> = present
            .iter()
            .copied()
            .filter(|t| !self.dump_order.iter().any(|o| o == t))
            .collect();
        rest.sort_unstable();
        rest.dedup();
        // Only the tables that hold something: every table of a dump costs each count and
        // acknowledgement a look at its bitmaps.
        self.dump_order
            .iter()
            .map(String::as_str)
            .filter(|t| present.contains(t))
            .chain(rest)
            .filter(|t| !mobile_only || self.mobile_tables.iter().any(|m| m == t))
            .map(str::to_string)
            .collect()
    }
}

/// Why a table catalogue's text is refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error(transparent)]
    Toml(toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_routes_the_msupply_tables() {
        let catalogue = TableCatalogue::builtin();
        assert_eq!(catalogue.route("item").route, RouteKind::Central);
        assert_eq!(catalogue.route("transact").route, RouteKind::Store);
        assert_eq!(catalogue.route("name").route, RouteKind::Name);
        assert_eq!(catalogue.route("name_store_join").route, RouteKind::NameStoreJoin);
        assert_eq!(catalogue.route("some_new_table").route, RouteKind::Store);
    }

    #[test]
    fn dump_order_puts_referenced_tables_first_and_unknown_tables_last() {
        let catalogue = TableCatalogue::builtin();
        let order = catalogue.dump_tables(["trans_line", "zzz", "transact", "item", "aaa"], false);
        let pos = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert!(pos("item") < pos("transact"));
        assert!(pos("transact") < pos("trans_line"));
        assert!(pos("trans_line") < pos("aaa"));
        assert!(pos("aaa") < pos("zzz"));
    }

    #[test]
    fn mobile_dump_leaves_out_tables_outside_the_subset() {
        let catalogue = TableCatalogue::builtin();
        let full = catalogue.dump_tables(["user", "item"], false);
        let mobile = catalogue.dump_tables(["user", "item"], true);
        assert!(full.iter().any(|t| t == "user"));
        assert!(!mobile.iter().any(|t| t == "user"), "the app drops every user record");
        assert!(mobile.iter().any(|t| t == "item"));
        for needed in [
            "item_store_join",
            "pref",
            "options",
            "period",
            "Stock_take",
            "Stock_take_lines",
        ] {
            assert!(catalogue.in_mobile_subset(needed), "{needed}");
        }
    }

    #[test]
    fn name_route_without_patient_marker_is_refused() {
        let text = "dump_order=[]\nmobile_tables=[]\n[default]\nroute=\"store\"\n[tables.name]\nroute=\"name\"\n";
        assert!(TableCatalogue::parse(text).is_err());
    }
}
