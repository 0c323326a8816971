//! v6, the central API an open-mSupply remote calls besides v5 (`<omSupplyCentralServerUrl>/central/sync/`):
//! its requests are POSTs whose body carries the site's v5 credentials (`sync_v5_settings`), and
//! its replies wrap their fields (snake_case) in `data`. satsync is not an open-mSupply central:
//! it has none of the v6-only tables, so it answers as a central with nothing to send.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::DecodeError;

/// What satsync reads of a v6 request: who is asking, and how much a push holds.
#[derive(Debug)]
pub struct RequestV6 {
    pub username: String,
    /// The SHA-256 hex of the site's password, as v5 sends it in its Basic credentials.
    pub password_sha256: String,
    /// The site's hardware id, as v5 sends it in `msupply-site-uuid`.
    pub site_uuid: String,
    /// The records of a push (none for pull and site_status).
    pub records: usize,
}

#[derive(Deserialize)]
struct Body {
    sync_v5_settings: Settings,
    #[serde(default)]
    batch: Option<Batch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    username: String,
    password_sha256: String,
    #[serde(default)]
    site_uuid: String,
}

#[derive(Deserialize)]
struct Batch {
    #[serde(default)]
    records: Vec<IgnoredAny>,
}

pub fn decode_request(body: &[u8]) -> Result<RequestV6, DecodeError> {
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        DecodeError::Malformed(format!(
            "a v6 request must be a JSON object with sync_v5_settings (username, passwordSha256): {e}"
        ))
    })?;
    Ok(RequestV6 {
        username: body.sync_v5_settings.username,
        password_sha256: body.sync_v5_settings.password_sha256,
        site_uuid: body.sync_v5_settings.site_uuid,
        records: body.batch.map_or(0, |b| b.records.len()),
    })
}

/// `pull`: nothing after any cursor, and this is the last batch.
pub fn encode_empty_pull() -> Vec<u8> {
    br#"{"data":{"end_cursor":0,"total_records":0,"records":[],"is_last_batch":true}}"#.to_vec()
}

/// `push`: how many records were received.
pub fn encode_pushed(records: usize) -> Vec<u8> {
    format!(r#"{{"data":{{"records_pushed":{records}}}}}"#).into_bytes()
}

/// `site_status`: never integrating (nothing pushed over v6 waits for integration).
pub fn encode_not_integrating() -> Vec<u8> {
    br#"{"data":{"is_integrating":false}}"#.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_read_for_its_credentials_and_its_record_count() {
        let body = br#"{"batch":{"records":[{"a":1},{"b":2}],"end_cursor":3},"sync_v5_settings":{"serverUrl":"http://p","username":"clinic","passwordSha256":"ab12","siteUuid":"hw-1","appVersion":"2.6.0","appName":"Open mSupply Desktop","syncVersion":"5"}}"#;
        let request = decode_request(body).unwrap();
        assert_eq!(
            (
                request.username.as_str(),
                request.password_sha256.as_str(),
                request.site_uuid.as_str()
            ),
            ("clinic", "ab12", "hw-1")
        );
        assert_eq!(request.records, 2);
    }

    #[test]
    fn a_request_without_credentials_is_malformed() {
        for body in [
            &b"{}"[..],
            b"[]",
            b"not json",
            br#"{"sync_v5_settings":{"username":"x"}}"#,
        ] {
            assert!(matches!(decode_request(body), Err(DecodeError::Malformed(_))));
        }
    }
}
