// The operator dashboard: a page of plain JavaScript over the admin API (/admin/v1/), served by
// satsync itself. The operator's credentials stay in this tab's session storage and go with
// every call; nothing is fetched from anywhere else.
"use strict";

const API = "/admin/v1";
const PAGE = 50;
let sitesOffset = 0;

const $ = (id) => document.getElementById(id);

function credentials() {
  return sessionStorage.getItem("satsync-auth");
}

async function api(method, path, body) {
  const headers = { Authorization: credentials() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({}));
  if (response.status === 401) {
    logout("Your session has ended: log in again.");
    throw new Error("unauthorized");
  }
  if (!response.ok) {
    throw new Error((reply.error && reply.error.message) || response.statusText);
  }
  return reply;
}

function show(page) {
  for (const id of ["login-page", "overview-page", "sites-page", "site-page"]) {
    $(id).hidden = id !== page;
  }
  $("nav").hidden = page === "login-page";
  $("nav-overview").classList.toggle("current", page === "overview-page");
  $("nav-sites").classList.toggle("current", page === "sites-page");
}

function logout(message) {
  sessionStorage.removeItem("satsync-auth");
  sessionStorage.removeItem("satsync-operator");
  $("login-error").textContent = message || "";
  show("login-page");
}

async function login(event) {
  event.preventDefault();
  const name = $("login-name").value;
  const auth = "Basic " + btoa(unescape(encodeURIComponent(name + ":" + $("login-password").value)));
  const response = await fetch(API + "/overview", { headers: { Authorization: auth } });
  if (!response.ok) {
    $("login-error").textContent = "Wrong operator name or password.";
    return;
  }
  sessionStorage.setItem("satsync-auth", auth);
  sessionStorage.setItem("satsync-operator", name);
  $("login-password").value = "";
  $("login-error").textContent = "";
  if (location.hash === "#overview") route();
  else location.hash = "#overview";
}

function when(seconds) {
  if (!seconds) return "never";
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  row.appendChild(td);
  return td;
}

/// A new last row of `body`, one cell per value.
function addRow(body, values) {
  const row = body.insertRow();
  for (const value of values) cell(row, value);
  return row;
}

function card(label, value, id) {
  const div = document.createElement("div");
  div.className = "card";
  div.id = id;
  const v = document.createElement("div");
  v.className = "value";
  v.textContent = value;
  const l = document.createElement("div");
  l.className = "label";
  l.textContent = label;
  div.append(v, l);
  return div;
}

function chart(container, series) {
  const width = 600, height = 160, pad = 4;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  for (const s of series) {
    const step = (width - 2 * pad) / Math.max(1, s.values.length - 1);
    const points = s.values
      .map((v, i) => `${pad + i * step},${height - pad - (v / max) * (height - 2 * pad)}`)
      .join(" ");
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", s.color);
    line.setAttribute("stroke-width", "2");
    line.setAttribute("class", "series-" + s.name);
    svg.appendChild(line);
  }
  container.replaceChildren(svg);
}

async function overview() {
  show("overview-page");
  const [o, flagged, patientJobs] = await Promise.all([
    api("GET", "/overview"),
    api("GET", "/flagged"),
    api("GET", "/patient-jobs?limit=50"),
  ]);
  const s = o.sites;
  $("cards").replaceChildren(
    card("sites", s.total, "card-sites"),
    card("initialised", s.initialised, "card-initialised"),
    card("initialising", s.initialising, "card-initialising"),
    card("new", s.new, "card-new"),
    card("disabled", s.disabled, "card-disabled"),
    card("need a look", s.flagged, "card-flagged"),
    card("records (estimate)", o.records_estimate.toLocaleString("en"), "card-records"),
    card("database", (o.database_bytes / 1048576).toFixed(1) + " MiB", "card-database"),
    card("pushed since start", o.pushed_since_start.toLocaleString("en"), "card-pushed"),
  );
  const minutes = o.minutes;
  chart($("chart-records"), [
    { name: "pushed", color: "#e76f51", values: minutes.map((m) => m.pushed) },
    { name: "delivered", color: "#2a9d8f", values: minutes.map((m) => m.delivered) },
    { name: "acknowledged", color: "#264653", values: minutes.map((m) => m.acknowledged) },
  ]);
  chart($("chart-commit"), [
    { name: "commit-mean", color: "#457b9d", values: minutes.map((m) => m.commit_ms_mean) },
    { name: "commit-max", color: "#e63946", values: minutes.map((m) => m.commit_ms_max) },
  ]);
  const body = $("flagged").tBodies[0];
  body.replaceChildren();
  for (const site of flagged.flagged) {
    const row = addRow(body, [site.name, site.flags.map((f) => f.message).join("; ")]);
    row.className = "link";
    row.addEventListener("click", () => (location.hash = "#site/" + encodeURIComponent(site.name)));
  }
  const jobs = $("patient-jobs").tBodies[0];
  jobs.replaceChildren();
  for (const job of patientJobs.jobs) {
    const since = when(Math.floor(job.since_unix_ms / 1000));
    const abandoned = job.abandoned ? "abandoned: its next load closes it" : "";
    addRow(jobs, [job.patient, job.type, job.state, since, abandoned]);
  }
  $("patient-jobs-total").textContent =
    patientJobs.total > patientJobs.jobs.length ? `(${patientJobs.jobs.length} oldest of ${patientJobs.total})` : `(${patientJobs.total})`;
}

async function addSite(event) {
  event.preventDefault();
  const request = { name: $("add-site-name").value, password: $("add-site-password").value };
  if ($("add-site-client").value) request.client = $("add-site-client").value;
  $("add-site-password").value = "";
  try {
    const added = await api("POST", "/sites", request);
    $("add-site-name").value = "";
    location.hash = "#site/" + encodeURIComponent(added.name);
  } catch (error) {
    $("sites-message").textContent = "Refused: " + error.message;
  }
}

async function sites() {
  show("sites-page");
  const query = new URLSearchParams({
    offset: sitesOffset,
    limit: PAGE,
    q: $("site-search").value,
    state: $("site-state").value,
    sort: $("site-sort").value,
    order: $("site-order").value,
  });
  const page = await api("GET", "/sites?" + query);
  const body = $("sites").tBodies[0];
  body.replaceChildren();
  for (const site of page.sites) {
    const row = body.insertRow();
    row.className = "link";
    row.dataset.name = site.name;
    cell(row, site.id);
    cell(row, site.name);
    cell(row, site.client);
    cell(row, site.disabled ? "disabled" : site.initialisation);
    cell(row, site.queued);
    cell(row, when(site.last_request_at));
    const flags = cell(row, "");
    for (const flag of site.flags) {
      const span = document.createElement("span");
      span.className = "flag";
      span.textContent = flag;
      flags.appendChild(span);
    }
    row.addEventListener("click", () => (location.hash = "#site/" + encodeURIComponent(site.name)));
  }
  const last = Math.min(sitesOffset + PAGE, page.total);
  $("page-info").textContent = page.total === 0 ? "no site" : `${sitesOffset + 1}–${last} of ${page.total}`;
  $("prev").disabled = sitesOffset === 0;
  $("next").disabled = last >= page.total;
}

async function site(name) {
  show("site-page");
  const path = "/sites/" + encodeURIComponent(name);
  const [summary, health, queue, skips] = await Promise.all([
    api("GET", path),
    api("GET", path + "/health"),
    api("GET", path + "/queue?limit=20"),
    api("GET", path + "/skips"),
  ]);
  $("site-title").textContent = `${summary.name} (site ${summary.id})`;
  const facts = [
    ["State", summary.disabled ? "disabled" : summary.initialisation],
    ["Client", summary.client],
    ["Stores", summary.stores.join(", ")],
    ["Hardware", summary.hardware_id || "not bound"],
    ["Records waiting", health.queued],
    ["Initialisation", health.initialisation_queued == null ? "none" : `${health.initialisation_acknowledged} of ${health.initialisation_queued}`],
    ["Last request", when(health.last_request_at)],
    ["Address", health.address || ""],
    ["API", health.api || ""],
    ["App version", health.app_version || ""],
    ["Last push", when(health.last_push_at)],
    ["Last pull", when(health.last_pull_at)],
    ["Last acknowledgement", when(health.last_ack_at)],
    ["Failed logins", health.failed_logins],
  ];
  const dl = $("site-health");
  dl.replaceChildren();
  for (const [term, value] of facts) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    dl.append(dt, dd);
  }
  const flags = $("site-flags");
  flags.replaceChildren();
  for (const flag of health.flags) {
    const li = document.createElement("li");
    li.className = "flag-" + flag.kind;
    li.textContent = flag.message;
    if (flag.record) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "skip-stuck";
      button.textContent = "Skip this record";
      button.addEventListener("click", () => skip(name, flag.record.sync_id));
      li.append(" ", button);
    }
    flags.appendChild(li);
  }
  if (health.flags.length === 0) flags.textContent = "none";
  $("toggle-disabled").textContent = summary.disabled ? "Enable" : "Disable";
  $("toggle-disabled").onclick = () =>
    act(name, () => api("POST", path + (summary.disabled ? "/enable" : "/disable")), summary.disabled ? "Enabled." : "Disabled.");
  $("reset-hardware").onclick = () => act(name, () => api("POST", path + "/reset-hardware"), "Hardware binding reset.");
  $("password-form").onsubmit = (event) => {
    event.preventDefault();
    const password = $("new-password").value;
    $("new-password").value = "";
    act(name, () => api("PUT", path + "/password", { password }), "Password changed.");
  };
  $("add-store").onsubmit = (event) => {
    event.preventDefault();
    const store = { site: name, name: $("add-store-name").value, code: $("add-store-code").value };
    act(name, () => api("POST", "/stores", store), `Store ${store.name} added.`);
    $("add-store-name").value = "";
    $("add-store-code").value = "";
  };
  const body = $("queue-head").tBodies[0];
  body.replaceChildren();
  for (const q of queue.head) {
    const row = addRow(body, [q.sync_id, q.table, q.record_id, q.sync_type, q.data_bytes]);
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Skip";
    button.className = "skip";
    button.addEventListener("click", () => skip(name, q.sync_id));
    cell(row, "").appendChild(button);
  }
  const log = $("skip-log");
  log.replaceChildren();
  for (const entry of skips.skips) {
    const li = document.createElement("li");
    li.textContent = `${when(entry.at_unix_seconds)}: ${entry.table} ${entry.record_id} — ${entry.reason}`;
    log.appendChild(li);
  }
}

function skip(name, syncId) {
  const reason = window.prompt("Why is this record skipped? (kept in the skip log)");
  if (!reason || !reason.trim()) return;
  const path = "/sites/" + encodeURIComponent(name) + "/queue/skip";
  act(name, () => api("POST", path, { sync_id: syncId, reason }), "Record skipped.");
}

async function act(name, call, done) {
  try {
    await call();
    await site(name);
    $("site-message").textContent = done;
  } catch (error) {
    $("site-message").textContent = "Refused: " + error.message;
  }
}

async function route() {
  if (!credentials()) return logout();
  $("who").textContent = sessionStorage.getItem("satsync-operator") || "";
  const hash = location.hash || "#overview";
  try {
    $("site-message").textContent = "";
    if (hash.startsWith("#site/")) await site(decodeURIComponent(hash.slice(6)));
    else if (hash === "#sites") await sites();
    else await overview();
  } catch (error) {
    if (error.message !== "unauthorized") console.error(error);
  }
}

$("login").addEventListener("submit", login);
$("logout").addEventListener("click", () => logout());
$("site-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  sitesOffset = 0;
  sites();
});
$("add-site").addEventListener("submit", addSite);
$("prev").addEventListener("click", () => {
  sitesOffset = Math.max(0, sitesOffset - PAGE);
  sites();
});
$("next").addEventListener("click", () => {
  sitesOffset += PAGE;
  sites();
});
window.addEventListener("hashchange", route);
setInterval(() => {
  if (!$("overview-page").hidden) overview().catch(() => {});
}, 10000);
route();
