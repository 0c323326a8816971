//! The operator dashboard in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver (both installed by `scripts/ensure-build-deps`), against the real server. An
//! operator logs in, reads the overview, finds a stuck satellite in the sites table, skips the
//! record it is stuck on and resets its hardware binding from its page. Screenshots of each page
//! go to `target/tmp/dashboard/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::admin::{call, plain_basic, with_operator_and_units_configured, OPERATOR, PASSWORD};
use crate::support::client::fetch_text;

/// chromedriver on a port of its own, stopped when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/ensure-build-deps installs chromium-driver)");
        Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A headless Chromium session, once chromedriver answers.
    async fn session(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"]}),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("no WebDriver session: {error}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The text of the element `css` names, once it is there and says something.
async fn text_of(browser: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if !text.trim().is_empty() {
                    return text;
                }
            }
        }
        assert!(Instant::now() < deadline, "nothing shows at {css}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the element `css` names says `expected`.
async fn wait_text(browser: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let shown = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{css} says {shown:?}, not {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `css` matches `count` elements.
async fn wait_count(browser: &Client, css: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = browser.find_all(Locator::Css(css)).await.unwrap().len();
        if found == count {
            return;
        }
        assert!(Instant::now() < deadline, "{found} elements at {css}, not {count}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(browser: &Client, css: &str) {
    browser.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_and_frees_a_stuck_satellite_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units_configured(dir.path(), 2, |config| {
        config.admin.stuck_after_deliveries = 2;
    })
    .await;
    // site2's app fails its batch on the first record: it pulls twice, never acknowledging.
    let stuck = server.satellite(&logins[0], "v3").not_mobile();
    let poison = stuck.pull_records(1).await[0]["RecordID"].as_str().unwrap().to_string();
    stuck.pull_records(1).await;

    let driver = Driver::start();
    let browser = driver.session().await;
    browser.goto(&format!("{}/admin/", server.admin_url())).await.unwrap();

    // A wrong password is refused on the page.
    fill(&browser, "#login-name", OPERATOR).await;
    fill(&browser, "#login-password", "not the password").await;
    click(&browser, "#login-submit").await;
    assert!(text_of(&browser, "#login-error").await.contains("Wrong"));
    fill(&browser, "#login-password", PASSWORD).await;
    click(&browser, "#login-submit").await;

    // The overview: two sites, one of them needing a look, named with its record.
    wait_text(&browser, "#card-sites .value", "2").await;
    wait_text(&browser, "#card-flagged .value", "1").await;
    let why = text_of(&browser, "#flagged tbody tr").await;
    assert!(why.contains(&logins[0].name) && why.contains(&poison), "{why}");
    wait_count(&browser, "#chart-records polyline", 3).await;
    wait_text(&browser, "#patient-jobs-total", "(0)").await;
    screenshot(&browser, "overview").await;

    // The sites table: filtered to the flagged ones, then searched by name.
    click(&browser, "#nav-sites").await;
    wait_count(&browser, "#sites tbody tr", 2).await;
    click(&browser, "#site-state option[value=flagged]").await;
    click(&browser, "#site-filter button").await;
    wait_count(&browser, "#sites tbody tr", 1).await;
    assert!(text_of(&browser, "#sites tbody tr").await.contains("stuck"));
    screenshot(&browser, "sites").await;

    // Its page: the stuck record, skipped with a reason in one action.
    click(&browser, "#sites tbody tr").await;
    assert!(text_of(&browser, "#site-flags").await.contains(&poison));
    click(&browser, "#site-flags .skip-stuck").await;
    browser.send_alert_text("its app cannot integrate it").await.unwrap();
    browser.accept_alert().await.unwrap();
    wait_text(&browser, "#site-message", "Record skipped.").await;
    assert!(text_of(&browser, "#skip-log")
        .await
        .contains("its app cannot integrate it"));
    wait_text(&browser, "#site-flags", "none").await;
    click(&browser, "#reset-hardware").await;
    wait_text(&browser, "#site-message", "Hardware binding reset.").await;
    screenshot(&browser, "site").await;

    // A new clinic, added in the browser with its store.
    click(&browser, "#nav-sites").await;
    fill(&browser, "#add-site-name", "clinic-added").await;
    fill(&browser, "#add-site-password", "clinic password").await;
    click(&browser, "#add-site-submit").await;
    // Its page opens, with the next id after the primary's (1) and the two sites'.
    wait_text(&browser, "#site-title", "clinic-added (site 4)").await;
    fill(&browser, "#add-store-name", "Added clinic store").await;
    fill(&browser, "#add-store-code", "ACS").await;
    click(&browser, "#add-store-submit").await;
    wait_text(&browser, "#site-message", "Store Added clinic store added.").await;
    screenshot(&browser, "site-added").await;
    browser.close().await.unwrap();

    // What the page did, the primary did.
    let operator = plain_basic(OPERATOR, PASSWORD);
    let site = call(
        &server.admin_url(),
        "GET",
        &format!("/admin/v1/sites/{}", logins[0].name),
        Some(&operator),
    )
    .await;
    assert_eq!(site.json["hardware_id"], serde_json::Value::Null);
    let rest = stuck.drain(10).await;
    assert_eq!(rest.len(), 2, "the satellite goes past the skipped record");
    assert!(rest.iter().all(|r| r["RecordID"] != poison.as_str()));

    // The clinic added in the browser syncs: it initialises, receives the central records and
    // acknowledges them.
    let site = call(
        &server.admin_url(),
        "GET",
        "/admin/v1/sites/clinic-added",
        Some(&operator),
    )
    .await;
    let stores = call(&server.admin_url(), "GET", "/admin/v1/stores", Some(&operator)).await;
    let store = stores.json["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|store| store["name"] == "Added clinic store")
        .cloned()
        .unwrap_or_else(|| panic!("the store added in the browser: {}", stores.raw));
    assert_eq!(store["site"], site.json["id"]);
    let added = crate::support::SiteLogin {
        id: u32::try_from(site.json["id"].as_u64().unwrap()).unwrap(),
        name: "clinic-added".to_string(),
        password: "clinic password".to_string(),
        store_id: store["id"].as_str().unwrap().to_string(),
        store_name_id: store["name_id"].as_str().unwrap().to_string(),
    };
    let clinic = server.satellite(&added, "v3").not_mobile();
    assert_eq!(clinic.site().await.json["SiteID"], site.json["id"]);
    assert_eq!(clinic.initial_dump(false).await.status, 200);
    let received = clinic.drain(100).await;
    let units = received.iter().filter(|r| r["RecordType"] == "unit").count();
    assert_eq!(units, 3, "every central record reaches the new clinic: {received:?}");
    assert_eq!(clinic.count().await, 0, "and it acknowledged them all");
    server.stop().await;
}

/// The dashboard's files come from the binary, with a policy that keeps the page to its own
/// script and style; nothing else is served there, and the API's answers are unchanged.
#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_on_the_admin_listener_only() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_operator_and_units_configured(dir.path(), 1, |_| {}).await;
    let admin = server.admin_url();
    for (path, kind, holds) in [
        ("/admin/", "text/html", "<script src=\"/admin/app.js\">"),
        ("/admin/app.js", "text/javascript", "/admin/v1"),
        ("/admin/style.css", "text/css", "body"),
    ] {
        let (status, headers, body) = fetch_text(&format!("{admin}{path}"), None).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            headers[http::header::CONTENT_TYPE].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let policy = headers[http::header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("default-src 'self'"), "{path}: {policy}");
        assert!(body.contains(holds), "{path}");
        for remote in ["src=\"http", "href=\"http", "fetch(\"http", "url(http", "import "] {
            assert!(
                !body.contains(remote),
                "{path} fetches nothing from elsewhere ({remote})"
            );
        }
    }
    let elsewhere = call(&server.base_url(), "GET", "/admin/", None).await;
    assert_eq!(elsewhere.status, 404, "not where satellites connect");
    let unknown = call(&admin, "GET", "/admin/secrets.txt", None).await;
    assert_eq!(
        unknown.status, 401,
        "anything else under /admin/ is the API's, behind its login"
    );
    server.stop().await;
}
