//! Compression negotiated each way: a pull asked for in gzip, zstd or br comes compressed and
//! decodes to exactly the plain reply; a client that asks for nothing, or a reply too small to
//! gain, gets it plain; a push sent in gzip applies like a plain one; a zip bomb (a small body
//! inflating past the limit) gets 413 and changes nothing; an encoding the primary does not read
//! gets 415, a corrupt body 400.

use std::io::{Read, Write};

use crate::support::data::{batch, ids, item};
use crate::support::{register_sites, TestServer};

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

fn decoded(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap();
        }
        "zstd" => out = zstd::decode_all(body).unwrap(),
        "br" => {
            brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
        }
        other => panic!("unexpected encoding {other}"),
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_come_compressed_when_asked_and_decode_to_the_plain_reply() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let (reader, writer) = (
        server.satellite(&logins[0], "v3").not_mobile(),
        server.satellite(&logins[1], "v3"),
    );
    let items: Vec<String> = (0..300).map(item).collect();
    assert_eq!(writer.push(&batch(&items)).await.json["error"], "");

    // Pulling does not consume: every call below answers the same 300 records.
    let pull = format!("queued_records/?{}&limit=500", reader.sites());
    let (status, headers, plain) = reader.raw("GET", &pull, &[], Vec::new()).await;
    assert_eq!(status, 200);
    assert!(headers.get("content-encoding").is_none(), "not asked: not compressed");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(
        ids(&serde_json::from_slice::<Vec<serde_json::Value>>(&plain).unwrap()).len(),
        300
    );

    // mSupply Mobile's stack offers gzip; open-mSupply's and browsers offer more.
    for (offer, chosen) in [
        ("gzip", "gzip"),
        ("gzip, deflate", "gzip"),
        ("gzip, deflate, br", "gzip"),
        ("deflate, br", "br"),
        ("gzip, br, zstd", "zstd"),
        ("zstd;q=0, gzip", "gzip"),
    ] {
        let (status, headers, body) = reader
            .raw("GET", &pull, &[("accept-encoding", offer)], Vec::new())
            .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-encoding"], chosen, "offered {offer}");
        assert!(
            body.len() * 3 < plain.len(),
            "{chosen}: {} of {} bytes",
            body.len(),
            plain.len()
        );
        assert_eq!(
            decoded(chosen, &body),
            plain.to_vec(),
            "{chosen} decodes to the plain reply"
        );
    }

    // Nothing the primary reads offered, or a reply too small to gain: plain.
    let (_, headers, body) = reader
        .raw("GET", &pull, &[("accept-encoding", "deflate, identity")], Vec::new())
        .await;
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(body, plain);
    let count = format!("queued_records/count?{}", reader.sites());
    let (status, headers, body) = reader
        .raw("GET", &count, &[("accept-encoding", "gzip")], Vec::new())
        .await;
    assert_eq!(status, 200);
    assert!(
        headers.get("content-encoding").is_none(),
        "a count is too small to gain"
    );
    assert_eq!(&body[..], br#"{"NumRecords":300}"#);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_push_applies_and_a_zip_bomb_or_unknown_encoding_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start_with(dir.path(), |config| config.limits.max_body_bytes = 256 * 1024).await;
    let (pusher, reader) = (
        server.satellite(&logins[0], "v3"),
        server.satellite(&logins[1], "v3").not_mobile(),
    );
    let push = format!("queued_records/?{}", pusher.sites());
    let gzip_header = [("content-encoding", "gzip")];

    let items: Vec<String> = (0..50).map(item).collect();
    let (status, _, body) = pusher
        .raw("POST", &push, &gzip_header, gzip(batch(&items).as_bytes()))
        .await;
    assert_eq!((status, &body[..]), (200, &br#"{"error":""}"#[..]));
    assert_eq!(reader.count().await, 50, "the gzip push applied");

    // A valid push padded with whitespace to 40 MB: 40 KB compressed, past the limit inflated.
    let bomb_items: Vec<String> = (100..110).map(item).collect();
    let mut bomb = batch(&bomb_items).into_bytes();
    bomb.splice(1..1, std::iter::repeat_n(b' ', 40 << 20));
    let bomb = gzip(&bomb);
    assert!(
        bomb.len() < 256 * 1024,
        "the bomb itself is under the limit: {}",
        bomb.len()
    );
    let (status, _, body) = pusher.raw("POST", &push, &gzip_header, bomb).await;
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(error["error"].as_str().unwrap().contains("limit"), "{error}");

    let other: Vec<String> = (200..210).map(item).collect();
    let (status, _, body) = pusher
        .raw(
            "POST",
            &push,
            &[("content-encoding", "deflate")],
            batch(&other).into_bytes(),
        )
        .await;
    assert_eq!(status, 415, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = pusher
        .raw("POST", &push, &gzip_header, b"not gzip at all".to_vec())
        .await;
    assert_eq!(status, 400);

    assert_eq!(reader.count().await, 50, "nothing of the refused pushes applied");
    assert_eq!(reader.drain(500).await.len(), 50);
    server.stop().await;
}
