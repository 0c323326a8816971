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
    /// The stores a patient is joined to through `name_store_join`.
    fn patient_stores(&self, name_id: &str) -> Vec<StoreKey>;
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
        RouteKind::Store | RouteKind::NameStoreJoin => {
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
        }
    }
    out.into_iter().collect()
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
        fn patient_stores(&self, name_id: &str) -> Vec<StoreKey> {
            if name_id == "P1" {
                vec![StoreKey::new("c"), StoreKey::new("a")]
            } else {
                Vec::new()
            }
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
    fn store_table_goes_to_its_store_and_the_named_second_store() {
        let got = route_of("transact", "a", &[("store_ID", "A"), ("name_ID", "NAME-OF-B")]);
        assert_eq!(
            got,
            vec![Audience::Store(StoreKey::new("A")), Audience::Store(StoreKey::new("B"))]
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
