//! What the primary writes for its operators: the skip log's entries (one JSON object per record
//! an operator removed from a satellite's queue, kept and printed as written).

use serde_json::json;

use crate::domain::ids::SiteId;
use crate::domain::record::RecordView;

/// The skip log's entry for `record`, skipped from `site`'s queue at `at_unix_seconds`.
pub fn skip_log_entry(
    at_unix_seconds: u64,
    site: SiteId,
    sync_id: &str,
    record: &RecordView<'_>,
    reason: &str,
) -> String {
    json!({
        "at_unix_seconds": at_unix_seconds,
        "site": site.0,
        "sync_id": sync_id,
        "table": record.table,
        "record_id": record.record_id,
        "sync_type": record.sync_type.code(),
        "store_id": record.store_id,
        "reason": reason,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::SyncType;

    #[test]
    fn a_skip_names_the_record_the_site_and_the_reason() {
        let record = RecordView {
            table: "item",
            record_id: "I1",
            sync_type: SyncType::Update,
            store_id: "S1",
            key_field_id: "",
            merge_id_to_keep: "",
            merge_id_to_delete: "",
            data: b"{}",
        };
        let entry: serde_json::Value = serde_json::from_str(&skip_log_entry(
            1_700_000_000,
            SiteId(7),
            "AB",
            &record,
            "breaks the batch",
        ))
        .unwrap();
        assert_eq!(
            entry,
            json!({"at_unix_seconds": 1_700_000_000_u64, "site": 7, "sync_id": "AB", "table": "item",
                "record_id": "I1", "sync_type": "U", "store_id": "S1", "reason": "breaks the batch"})
        );
    }
}
