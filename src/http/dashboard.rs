//! The operator dashboard's files, compiled into the binary (no CDN, nothing fetched at run
//! time): a page of HTML, its style and its script, which call the admin API with the operator's
//! credentials. Served on the admin listener at `/admin/`.

const INDEX: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");

/// The file at `path` (under `/admin/`) and its content type, if it is one of the dashboard's.
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/admin" | "/admin/" | "/admin/index.html" => Some(("text/html; charset=utf-8", INDEX)),
        "/admin/app.js" => Some(("text/javascript; charset=utf-8", SCRIPT)),
        "/admin/style.css" => Some(("text/css; charset=utf-8", STYLE)),
        _ => None,
    }
}
