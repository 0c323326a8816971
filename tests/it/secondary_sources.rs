//! The secondary-source client against a fake source over real HTTP: each kind of answer, each
//! kind of failure, and the bound on concurrent fetches.

use std::sync::Arc;
use std::time::Duration;

use satsync::patient::ids::SourcePid;
use satsync::patient_sync::secondary::{FetchError, SecondaryClient, SourceAnswer};
use serde_json::{json, Value};

use crate::support::fake_source::FakeSource;

const HDR: &str = "HDR;10108V420871";
const DOD: &str = "DOD;4325678";
const ENOUGH: Duration = Duration::from_secs(10);

fn pid(text: &str) -> SourcePid {
    SourcePid::parse(text).unwrap()
}

fn item(pid: &str) -> Value {
    let uid = "urn:va:allergy:HDR:10108V420871:1";
    json!({"pid": pid,
        "metastamp": {"stampTime": 20160706094020_u64, "domains": {"allergy": {
            "stampTime": 20160706094020_u64, "events": {uid: 20160706094020_u64}}}},
        "records": [{"uid": uid, "domain": "allergy", "stampTime": 20160706094020_u64,
            "data": {"uid": uid, "summary": "PENICILLIN"}}]})
}

async fn fetch_error(client: &SecondaryClient, source: &FakeSource, asked: &str, timeout: Duration) -> FetchError {
    match client.fetch(&source.base_url(), &pid(asked), timeout).await {
        Err(error) => error,
        Ok(answer) => panic!("{asked}: expected an error, got {answer:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_with_data_answers_one_item_for_the_pid() {
    let source = FakeSource::start().await;
    source.answer(HDR, &item(HDR));
    let client = SecondaryClient::new(4);
    let answer = client.fetch(&source.base_url(), &pid(HDR), ENOUGH).await.unwrap();
    let SourceAnswer::Data(item) = answer else {
        panic!("expected data, got {answer:?}");
    };
    assert_eq!(item.pid, pid(HDR));
    assert_eq!(item.records.len(), 1);
    assert_eq!(item.records[0].data["summary"], "PENICILLIN");
    assert!(item.metastamp.unwrap().domains.contains_key("allergy"));
    assert_eq!(source.requests(), [HDR]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_means_the_source_holds_nothing() {
    let source = FakeSource::start().await;
    source.nothing(DOD);
    let client = SecondaryClient::new(4);
    for asked in [DOD, "VLER;10108V420871"] {
        let answer = client.fetch(&source.base_url(), &pid(asked), ENOUGH).await.unwrap();
        assert_eq!(answer, SourceAnswer::Nothing, "{asked}");
    }
    assert_eq!(source.requests(), [DOD, "VLER;10108V420871"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_other_status_is_an_error_of_kind_status() {
    let source = FakeSource::start().await;
    source.fail(HDR);
    source.answer_raw(DOD, 503, "");
    let client = SecondaryClient::new(4);
    let error = fetch_error(&client, &source, HDR, ENOUGH).await;
    assert_eq!((error.kind(), error.clone()), ("status", FetchError::Status(500)));
    let sync_error = error.to_sync_error();
    assert_eq!(
        (sync_error.kind.as_str(), sync_error.message.as_str()),
        ("status", "the source answered with status 500")
    );
    assert_eq!(
        fetch_error(&client, &source, DOD, ENOUGH).await,
        FetchError::Status(503)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_body_is_an_error_of_kind_body() {
    let source = FakeSource::start().await;
    source.answer_raw(HDR, 200, "{\"pid\": \"HDR;10108V420871\", ");
    source.answer(DOD, &item("DOD;1111111"));
    source.answer("VLER;10108V420871", &item("VLER;10108V420871"));
    let client = SecondaryClient::new(4);

    let error = fetch_error(&client, &source, HDR, ENOUGH).await;
    assert_eq!(error.kind(), "body");
    assert!(error.to_string().contains("the reply is not JSON"), "{error}");

    let error = fetch_error(&client, &source, DOD, ENOUGH).await;
    assert_eq!(error.kind(), "body");
    assert!(error.to_string().contains("is not the pid asked for"), "{error}");

    let small_replies_only = SecondaryClient::new(4).with_max_reply_bytes(100);
    let error = fetch_error(&small_replies_only, &source, "VLER;10108V420871", ENOUGH).await;
    assert_eq!(
        error,
        FetchError::Body("the reply is larger than 100 bytes".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_source_is_an_error_of_kind_timeout() {
    let source = FakeSource::start().await;
    source.answer(HDR, &item(HDR));
    source.delay(HDR, Duration::from_secs(30));
    let client = SecondaryClient::new(4);
    let error = fetch_error(&client, &source, HDR, Duration::from_millis(200)).await;
    assert_eq!(error, FetchError::Timeout(Duration::from_millis(200)));
    assert_eq!(error.to_sync_error().kind, "timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_is_not_listening_is_an_error_of_kind_connect() {
    // A port that was just free: nothing listens on it once the listener is dropped.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = SecondaryClient::new(4);
    let error = client
        .fetch(&format!("http://{closed}"), &pid(HDR), ENOUGH)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "connect", "{error}");
    assert!(
        !error.to_string().contains(&closed.to_string()),
        "no address in {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_fetches_run_at_once_than_the_bound() {
    let source = FakeSource::start().await;
    let pids: Vec<String> = (1..=6).map(|n| format!("DOD;100000{n}")).collect();
    for asked in &pids {
        source.answer(asked, &json!({"pid": asked}));
        source.delay(asked, Duration::from_millis(150));
    }
    let client = Arc::new(SecondaryClient::new(2));
    let mut fetches = tokio::task::JoinSet::new();
    for asked in pids.clone() {
        let (client, base_url) = (client.clone(), source.base_url());
        fetches.spawn(async move { client.fetch(&base_url, &pid(&asked), ENOUGH).await });
    }
    while let Some(answer) = fetches.join_next().await {
        assert!(matches!(answer.unwrap(), Ok(SourceAnswer::Data(_))));
    }
    let mut asked = source.requests();
    asked.sort();
    assert_eq!(asked, pids);
    assert!(
        (1..=2).contains(&source.max_in_flight()),
        "{} in flight",
        source.max_in_flight()
    );
}
