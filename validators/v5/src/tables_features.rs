//! The field lists of the small remote tables of §3.32: activity logs and documents, the cold
//! chain, VVM logs, indicator values, insurance joins, messages and purchasing. `tables_remote.rs`
//! turns them into tables.

use crate::contract::{key, opt, r, Field};
use crate::enums::*;
use crate::kinds::Kind::*;

pub(crate) const ACTIVITY_LOG: &[Field] = &[
    r("ID", Str),
    r("user_ID", Str),
    r("store_ID", Str),
    r("record_ID", Str),
    r("datetime", DateTime),
    r("type", PascalCase),
    opt("changed_to", Str),
    opt("changed_from", Str),
];

pub(crate) const DOCUMENT: &[Field] = &[
    r("ID", Str),
    r("name", Str),
    r("user_ID", Str),
    r("type", Str),
    r("context_ID", Str),
    r("parent_IDs", JsonArrayText),
    r("datetime", DateTime),
    r("data", Json),
    r("status", Enum(DOCUMENT_STATUSES)),
    key("form_schema_ID", OptStr),
    key("owner_name_ID", OptStr),
];

pub(crate) const SENSOR: &[Field] = &[
    r("ID", Str),
    r("name", Str),
    r("macAddress", Str),
    r("storeID", Str),
    r("is_active", Bool),
    key("locationID", OptStr),
    key("lastConnectionDate", ZeroDate),
    key("lastConnectionTime", Secs),
    key("om_last_connection_datetime", OptDateTime),
    opt("batteryLevel", I64),
    opt("logInterval", I64),
];

pub(crate) const TEMPERATURE_LOG: &[Field] = &[
    r("ID", Str),
    r("sensor_ID", Str),
    r("store_ID", Str),
    r("temperature", Num),
    key("location_ID", OptStr),
    key("date", ZeroDate),
    key("time", Secs),
    key("temperature_breach_ID", OptStr),
    key("om_datetime", OptDateTime),
];

pub(crate) const TEMPERATURE_BREACH: &[Field] = &[
    r("ID", Str),
    r("sensor_ID", Str),
    r("store_ID", Str),
    r("duration", I32),
    r("threshold_duration", I32),
    r("acknowledged", Bool),
    r("threshold_minimum_temperature", Num),
    r("threshold_maximum_temperature", Num),
    r("type", Enum(BREACH_TYPES)),
    key("location_ID", OptStr),
    key("start_date", ZeroDate),
    key("end_date", ZeroDate),
    key("start_time", Secs),
    key("end_time", Secs),
    key("om_start_datetime", OptDateTime),
    key("om_end_datetime", OptDateTime),
    key("om_comment", OptStr),
];

pub(crate) const VVM_STATUS_LOG: &[Field] = &[
    r("ID", Str),
    r("status_ID", Str),
    r("item_line_ID", Str),
    r("user_ID", Str),
    r("store_ID", Str),
    r("date", Date),
    key("time", Secs),
    key("comment", OptStr),
    key("trans_line_ID", OptStr),
];

pub(crate) const INDICATOR_VALUE: &[Field] = &[
    r("ID", Str),
    r("facility_ID", Str),
    r("period_ID", Str),
    r("column_ID", Str),
    r("row_ID", Str),
    r("store_ID", Str),
    r("value", Str),
];

const INSURANCE_OMS_FIELDS: &[Field] = &[opt("name_of_insured", Str)];

pub(crate) const NAME_INSURANCE_JOIN: &[Field] = &[
    r("ID", Str),
    r("nameID", Str),
    r("insuranceProviderID", Str),
    r("policyNumberFull", Str),
    r("discountRate", Num),
    r("expiryDate", Date),
    r("isActive", Bool),
    r("type", Enum(INSURANCE_TYPES)),
    key("enteredByID", OptStr),
    key("policyNumberFamily", OptStr),
    key("policyNumberPerson", OptStr),
    opt("oms_fields", Fields(INSURANCE_OMS_FIELDS)),
];

pub(crate) const MESSAGE: &[Field] = &[
    r("ID", Str),
    r("body", Json),
    r("createdDate", Date),
    r("status", Enum(MESSAGE_STATUSES)),
    r("type", Str),
    key("toStoreID", OptStr),
    key("fromStoreID", OptStr),
    key("createdTime", Secs),
    opt("error_message", Str),
];

const PURCHASE_ORDER_OMS_FIELDS: &[Field] = &[
    opt("created_datetime", OptDateTime),
    opt("confirmed_datetime", OptDateTime),
    opt("sent_datetime", OptDateTime),
    opt("request_approval_datetime", OptDateTime),
    opt("finalised_datetime", OptDateTime),
    opt("supplier_discount_percentage", Num),
    opt("status", OptEnum(PURCHASE_ORDER_OM_STATUSES)),
];

pub(crate) const PURCHASE_ORDER: &[Field] = &[
    r("ID", Str),
    r("name_ID", Str),
    r("store_ID", Str),
    r("creation_date", Date),
    r("serial_number", I64),
    r("status", Str),
    key("confirm_date", ZeroDate),
    key("po_sent_date", ZeroDate),
    key("Date_contract_signed", ZeroDate),
    key("Date_advance_payment", ZeroDate),
    key("Date_goods_received_at_port", ZeroDate),
    opt("comment", Str),
    opt("currency_ID", Str),
    opt("reference", Str),
    opt("created_by", Str),
    opt("supplier_agent", Str),
    opt("authorizing_officer_1", Str),
    opt("authorizing_officer_2", Str),
    opt("freight_conditions", Str),
    opt("additional_instructions", Str),
    opt("donor_id", Str),
    opt("heading_message", Str),
    opt("delivery_method", Str),
    opt("agent_commission", ZeroF64),
    opt("document_charge", ZeroF64),
    opt("communications_charge", ZeroF64),
    opt("insurance_charge", ZeroF64),
    opt("freight_charge", ZeroF64),
    opt("curr_rate", ZeroF64),
    opt("requested_delivery_date", ZeroDate),
    opt("target_months", Num),
    opt("supplier_discount_amount", Num),
    opt("Order_total_before_discount", Num),
    opt("Order_total_after_discount", Num),
    opt("is_authorised", Bool),
    opt("oms_fields", Fields(PURCHASE_ORDER_OMS_FIELDS)),
];

const PURCHASE_ORDER_LINE_OMS_FIELDS: &[Field] = &[opt("status", OptEnum(PURCHASE_ORDER_LINE_OM_STATUSES))];

pub(crate) const PURCHASE_ORDER_LINE: &[Field] = &[
    r("ID", Str),
    r("store_ID", Str),
    r("purchase_order_ID", Str),
    r("item_ID", Str),
    r("line_number", I64),
    r("price_extension_expected", Num),
    key("comment", OptStr),
    key("manufacturer_ID", OptStr),
    key("note", OptStr),
    key("pack_units", OptStr),
    opt("item_name", Str),
    opt("snapshot_quantity", Num),
    opt("packsize_ordered", Num),
    opt("quan_original_order", Num),
    opt("price_per_pack_before_discount", Num),
    opt("price_expected_after_discount", Num),
    opt("quan_adjusted_order", ZeroF64),
    opt("delivery_date_requested", ZeroDate),
    opt("delivery_date_expected", ZeroDate),
    opt("supplier_item_code", Str),
    opt("oms_fields", Fields(PURCHASE_ORDER_LINE_OMS_FIELDS)),
];

pub(crate) const GOODS_RECEIVED: &[Field] = &[
    r("ID", Str),
    r("store_ID", Str),
    r("serial_number", I64),
    r("status", Str),
    key("purchase_order_ID", OptStr),
    key("comment", OptStr),
    key("supplier_reference", OptStr),
    key("user_id_created", OptStr),
    key("entry_date", ZeroDate),
    key("donor_id", OptStr),
];

pub(crate) const GOODS_RECEIVED_LINE: &[Field] = &[
    r("ID", Str),
    r("goods_received_ID", Str),
    r("item_ID", Str),
    r("item_name", Str),
    r("pack_received", Num),
    r("quantity_received", Num),
    r("cost_price", Num),
    r("volume_per_pack", Num),
    key("batch_received", OptStr),
    key("expiry_date", ZeroDate),
    key("comment", OptStr),
    key("location_ID", OptStr),
    opt("order_line_ID", Str),
];
