//! The value lists of the contract. The first group are the legacy enums serde parses: a string
//! outside the list is a deserialisation error (the record is rejected). The second group are the
//! values a translator knows once the string has deserialised: others make it ignore or reject the
//! record, as `semantics.rs` and its siblings say.

// Enums serde parses (a value outside the list fails the record).

pub(crate) const ITEM_TYPES: &[&str] = &["general", "non_stock", "service"];

pub(crate) const STORE_MODES: &[&str] = &["store", "dispensary"];

pub(crate) const GENDERS: &[&str] = &[
    "FEMALE",
    "MALE",
    "TRANSGENDER",
    "TRANSGENDER_MALE",
    "TRANSGENDER_MALE_HORMONE",
    "TRANSGENDER_MALE_SURGICAL",
    "TRANSGENDER_FEMALE",
    "TRANSGENDER_FEMALE_HORMONE",
    "TRANSGENDER_FEMALE_SURGICAL",
    "UNKNOWN",
    "NON_BINARY",
];

pub(crate) const OPTION_TYPES: &[&str] = &[
    "positiveInventoryAdjustment",
    "negativeInventoryAdjustment",
    "openVialWastage",
    "closedVialWastage",
    "returnReason",
    "requisitionLineVariance",
];

pub(crate) const PERMISSIONS: &[&str] = &["DocumentQuery", "DocumentMutate"];

pub(crate) const INDICATOR_VALUE_TYPES: &[&str] = &["number", "string", "var"];

pub(crate) const INDICATOR_AXES: &[&str] = &["row", "column"];

/// `transact.om_status`.
pub(crate) const INVOICE_OM_STATUSES: &[&str] = &[
    "NEW",
    "ALLOCATED",
    "PICKED",
    "SHIPPED",
    "DELIVERED_NO_STOCK",
    "DELIVERED",
    "VERIFIED",
    "CANCELLED",
];

/// `transact.om_type`, aliases included.
pub(crate) const INVOICE_OM_TYPES: &[&str] = &[
    "OUTBOUND_SHIPMENT",
    "INBOUND_SHIPMENT",
    "PRESCRIPTION",
    "INVENTORY_ADDITION",
    "INVENTORY_ADJUSTMENT",
    "INVENTORY_REDUCTION",
    "REPACK",
    "CUSTOMER_RETURN",
    "SUPPLIER_RETURN",
    "OUTBOUND_RETURN",
];

pub(crate) const AUTHORISATION_STATUSES: &[&str] = &[
    "none",
    "pending",
    "authorised",
    "denied",
    "auto-authorised",
    "authorised by another authoriser",
    "denied by another authoriser",
];

/// `requisition.om_status`.
pub(crate) const REQUISITION_OM_STATUSES: &[&str] = &["DRAFT", "NEW", "SENT", "FINALISED"];

pub(crate) const BREACH_TYPES: &[&str] = &[
    "COLD_CONSECUTIVE",
    "HOT_CONSECUTIVE",
    "COLD_CUMULATIVE",
    "HOT_CUMULATIVE",
    "EXCURSION",
];

pub(crate) const DOCUMENT_STATUSES: &[&str] = &["ACTIVE", "DELETED"];

pub(crate) const INSURANCE_TYPES: &[&str] = &["personal", "business"];

pub(crate) const MESSAGE_STATUSES: &[&str] = &["new", "processed"];

/// `purchase_order.oms_fields.status`.
pub(crate) const PURCHASE_ORDER_OM_STATUSES: &[&str] = &["NEW", "REQUEST_APPROVAL", "CONFIRMED", "SENT", "FINALISED"];

/// `purchase_order_line.oms_fields.status`.
pub(crate) const PURCHASE_ORDER_LINE_OM_STATUSES: &[&str] = &["NEW", "SENT", "CLOSED"];

// Values the translators know once the string has deserialised.

/// `transact.type` (`Sc` is an alias of `sc`); others are Ignored.
pub(crate) const INVOICE_TYPES: &[&str] = &["si", "ci", "sc", "Sc", "sr", "cc"];

/// `transact.status` (`FN` is an alias of `fn`); others are Ignored.
pub(crate) const INVOICE_STATUSES: &[&str] = &["nw", "sg", "cn", "fn", "FN"];

/// `trans_line.type`; others (e.g. `non_stock`) are Ignored.
pub(crate) const INVOICE_LINE_TYPES: &[&str] = &["stock_in", "stock_out", "placeholder", "service"];

/// `Stock_take.status`; others are Ignored.
pub(crate) const STOCKTAKE_STATUSES: &[&str] = &["sg", "fn"];

/// `requisition.type`; others (`supply`, `report`, ...) are Ignored.
pub(crate) const REQUISITION_TYPES: &[&str] = &["request", "response", "im", "sh"];

/// `requisition.status`; others are rejected ("Unsupported requisition status").
pub(crate) const REQUISITION_STATUSES: &[&str] = &["sg", "cn", "fn", "nw"];

/// `om_document_registry.category`; others are Ignored.
pub(crate) const DOCUMENT_CATEGORIES: &[&str] =
    &["PATIENT", "PROGRAM_ENROLMENT", "ENCOUNTER", "CONTACT_TRACE", "CUSTOM"];

/// `store.code` of the system stores the store translator ignores.
pub(crate) const SYSTEM_STORE_CODES: &[&str] = &["HIS", "DRG", "SM"];
