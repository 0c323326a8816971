//! What the v4 patient lookups answer: a patient's join to a store, and its dispensing history
//! (the confirmed customer invoices, with the item and the people of each line).

/// A `name_store_join` as the v4 call answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub id: String,
    pub name_id: String,
    pub store_id: String,
    pub inactive: bool,
}

/// One confirmed customer invoice of a patient, with what the history shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispensing {
    pub confirm_date: String,
    pub store_name: String,
    pub clinician: (String, String),
    pub lines: Vec<DispensedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispensedLine {
    pub id: String,
    /// As stored (`"0"` when the line has none); the lookup's reply makes it a number when it
    /// is one.
    pub quantity: String,
    pub item_name: String,
    pub item_code: String,
    /// As stored (`"0"` when the item has none), made a number in the reply like `quantity`.
    pub doses: String,
    pub is_vaccine: bool,
    pub administrator: (String, String),
}
