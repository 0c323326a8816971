//! Routing: which audiences a record concerns. An audience is "central" (every satellite) or one
//! store (the site hosting it). A satellite's queue is a view over the audiences it belongs to,
//! so a change costs one index entry per audience, never one per satellite.

use std::collections::BTreeSet;

use super::ids::StoreKey;
use super::tables::{RouteKind, TableRoute};

/// Who a change concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    Central,
    Store(StoreKey),
}

impl Audience {
    /// The stable text form used in storage: empty for central, the store key otherwise.
    pub fn as_key(&self) -> &str {
        match self {
            Audience::Central => "",
            Audience::Store(store) => store.as_str(),
        }
    }

    pub fn from_key(key: &str) -> Audience {
        if key.is_empty() {
            Audience::Central
        } else {
            Audience::Store(StoreKey::new(key))
        }
    }
}

/// What routing needs to know beyond the record itself.
pub trait RoutingLookup {
    /// The store whose own name has this id (`NameID`), if it is a known store.
    fn store_named(&self, name_id: &str) -> Option<StoreKey>;
    /// The store whose own name has this id, if its site builds its own half of a transfer.
    fn store_building_transfers(&self, name_id: &str) -> Option<StoreKey>;
    /// The stores a name (a patient, say) is joined to through `name_store_join`.
    fn patient_stores(&self, name_id: &str) -> Vec<StoreKey>;
    /// The audiences of a header's current state (`None` while the header is not known).
    fn parent_audiences(&self, table: &str, id: &str) -> Option<Vec<Audience>>;
}

/// The routing-relevant values of one record: its envelope `StoreID` and the `data` fields that
/// the table's route names (missing fields are `None`).
pub struct RoutingFacts<'a> {
    pub record_id: &'a str,
    pub envelope_store: &'a str,
    pub fields: &'a [(String, Option<String>)],
}

impl RoutingFacts<'_> {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .and_then(|(_, value)| value.as_deref())
    }
}

/// The audiences of one record, sorted and without repeats (so the result does not depend on the
/// order of fields in the record).
pub fn audiences(route: &TableRoute, facts: &RoutingFacts<'_>, lookup: &dyn RoutingLookup) -> Vec<Audience> {
    let mut out = BTreeSet::new();
    match route.route {
        RouteKind::Central => {
            out.insert(Audience::Central);
        }
        RouteKind::Name => {
            let is_patient = match (&route.patient_field, &route.patient_value) {
                (Some(field), Some(value)) => facts.field(field) == Some(value.as_str()),
                _ => false,
            };
            if is_patient {
                for store in lookup.patient_stores(facts.record_id) {
                    out.insert(Audience::Store(store));
                }
            } else {
                out.insert(Audience::Central);
            }
        }
        RouteKind::Store | RouteKind::NameStoreJoin => named_stores(route, facts, lookup, &mut out),
        RouteKind::Parent => {
            let header = match (&route.parent_table, &route.parent_field) {
                (Some(table), Some(field)) => facts
                    .field(field)
                    .filter(|id| !id.is_empty())
                    .and_then(|id| lookup.parent_audiences(table, id)),
                _ => None,
            };
            match header {
                Some(audiences) if !audiences.is_empty() => out.extend(audiences),
                _ => named_stores(route, facts, lookup, &mut out),
            }
        }
        RouteKind::JoinedName => {
            if let Some(name) = route.name_field.as_deref().and_then(|f| facts.field(f)) {
                out.extend(lookup.patient_stores(name).into_iter().map(Audience::Store));
                out.extend(lookup.store_named(name).map(Audience::Store));
            }
            named_stores(route, facts, lookup, &mut out);
        }
    }
    out.into_iter().collect()
}

/// The stores a record names: its envelope `StoreID`, its store fields, and the stores whose own
/// names its store-name fields hold.
fn named_stores(
    route: &TableRoute,
    facts: &RoutingFacts<'_>,
    lookup: &dyn RoutingLookup,
    out: &mut BTreeSet<Audience>,
) {
    let stores = std::iter::once(facts.envelope_store)
        .chain(route.store_fields.iter().filter_map(|f| facts.field(f)))
        .filter(|id| !id.is_empty())
        .map(StoreKey::new);
    out.extend(stores.map(Audience::Store));
    for field in &route.store_name_fields {
        if let Some(store) = facts.field(field).and_then(|name| lookup.store_named(name)) {
            out.insert(Audience::Store(store));
        }
    }
    for field in &route.transfer_name_fields {
        if let Some(store) = facts
            .field(field)
            .and_then(|name| lookup.store_building_transfers(name))
        {
            out.insert(Audience::Store(store));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tables::TableCatalogue;
    use proptest::prelude::*;

    struct NoLookup;
    impl RoutingLookup for NoLookup {
        fn store_named(&self, name_id: &str) -> Option<StoreKey> {
            (name_id == "NAME-OF-B").then(|| StoreKey::new("b"))
        }
        fn store_building_transfers(&self, name_id: &str) -> Option<StoreKey> {
            (name_id == "NAME-OF-OMS").then(|| StoreKey::new("oms"))
        }
        fn patient_stores(&self, name_id: &str) -> Vec<StoreKey> {
            if name_id == "P1" {
                vec![StoreKey::new("c"), StoreKey::new("a")]
            } else {
                Vec::new()
            }
        }
        fn parent_audiences(&self, table: &str, id: &str) -> Option<Vec<Audience>> {
            (table == "transact" && id == "T1").then(|| vec![Audience::Store(StoreKey::new("D"))])
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect()
    }

    fn route_of(table: &str, envelope_store: &str, pairs: &[(&str, &str)]) -> Vec<Audience> {
        let catalogue = TableCatalogue::builtin();
        let fields = fields(pairs);
        let facts = RoutingFacts {
            record_id: "P1",
            envelope_store,
            fields: &fields,
        };
        audiences(catalogue.route(table), &facts, &NoLookup)
    }

    #[test]
    fn central_table_goes_to_central() {
        assert_eq!(route_of("item", "", &[]), vec![Audience::Central]);
    }

    #[test]
    fn store_table_goes_to_its_store_and_a_configured_second_store() {
        // An invoice to another store stays with its own store: the primary generates the other
        // store's half. A table configured with store_name_fields reaches the named store too.
        let got = route_of("transact", "a", &[("store_ID", "A"), ("name_ID", "NAME-OF-B")]);
        assert_eq!(got, vec![Audience::Store(StoreKey::new("A"))]);
        let mut route = TableCatalogue::builtin().route("transact").clone();
        route.store_name_fields = vec!["name_ID".into()];
        let fields = fields(&[("store_ID", "A"), ("name_ID", "NAME-OF-B")]);
        let facts = RoutingFacts {
            record_id: "T",
            envelope_store: "a",
            fields: &fields,
        };
        assert_eq!(
            audiences(&route, &facts, &NoLookup),
            vec![Audience::Store(StoreKey::new("A")), Audience::Store(StoreKey::new("B"))]
        );
    }

    #[test]
    fn a_transfer_to_a_store_that_builds_its_own_half_reaches_it_as_it_is() {
        let got = route_of("transact", "a", &[("store_ID", "A"), ("name_ID", "NAME-OF-OMS")]);
        assert_eq!(
            got,
            vec![
                Audience::Store(StoreKey::new("A")),
                Audience::Store(StoreKey::new("oms"))
            ]
        );
        let got = route_of("requisition", "a", &[("store_ID", "A"), ("name_ID", "NAME-OF-OMS")]);
        assert_eq!(
            got,
            vec![
                Audience::Store(StoreKey::new("A")),
                Audience::Store(StoreKey::new("oms"))
            ]
        );
    }

    #[test]
    fn patient_goes_only_to_joined_stores_and_other_names_are_central() {
        let got = route_of("name", "", &[("type", "patient")]);
        assert_eq!(
            got,
            vec![Audience::Store(StoreKey::new("A")), Audience::Store(StoreKey::new("C"))]
        );
        assert_eq!(route_of("name", "", &[("type", "customer")]), vec![Audience::Central]);
    }

    #[test]
    fn a_line_goes_where_its_header_goes_and_by_its_own_store_until_the_header_is_known() {
        assert_eq!(
            route_of("trans_line", "x", &[("transaction_ID", "T1")]),
            vec![Audience::Store(StoreKey::new("D"))]
        );
        assert_eq!(
            route_of("trans_line", "x", &[("transaction_ID", "T2")]),
            vec![Audience::Store(StoreKey::new("X"))]
        );
    }

    #[test]
    fn a_record_that_follows_a_name_goes_to_its_store_and_its_joined_stores() {
        // A list joined to store B's own name goes to B; a patient's note to the patient's stores
        // and to the store that wrote it.
        assert_eq!(
            route_of("list_master_name_join", "", &[("name_ID", "NAME-OF-B")]),
            vec![Audience::Store(StoreKey::new("B"))]
        );
        assert_eq!(
            route_of("name_note", "e", &[("name_ID", "P1")]),
            vec![
                Audience::Store(StoreKey::new("A")),
                Audience::Store(StoreKey::new("C")),
                Audience::Store(StoreKey::new("E"))
            ]
        );
    }

    #[test]
    fn store_table_without_store_reaches_nobody() {
        assert!(route_of("transact", "", &[]).is_empty());
    }

    proptest! {
        #[test]
        fn audiences_do_not_depend_on_field_order(shuffle: u64,
                                                   store in "[a-f0-9]{4}", other in "[a-f0-9]{4}") {
            let catalogue = TableCatalogue::builtin();
            let mut pairs = vec![
                ("store_ID".to_string(), Some(store.clone())),
                ("name_ID".to_string(), Some("NAME-OF-B".to_string())),
                ("comment".to_string(), Some(other)),
            ];
            let forward = audiences(catalogue.route("transact"), &RoutingFacts { record_id: "x", envelope_store: &store, fields: &pairs }, &NoLookup);
            pairs.rotate_left((shuffle % 3) as usize);
            pairs.reverse();
            let backward = audiences(catalogue.route("transact"), &RoutingFacts { record_id: "x", envelope_store: &store, fields: &pairs }, &NoLookup);
            prop_assert_eq!(forward, backward);
        }
    }
}
