// apgraph operations dashboard: plain JavaScript, no framework, no network beyond this server.
// Reads the finance-ops API product with the viewer's own token (row-level access applies), and
// refreshes when the server pushes an invoice status change over graphql-transport-ws. Only the
// connectors' state is operators' data, read from /graphql (admin scope) for an admin viewer.
"use strict";

const FUNNEL = [
  ["received", "Received", null], ["validated", "Validated (waiting to match)", "VALIDATED"],
  ["matched", "Matched (posting)", "MATCHED"], ["exception", "In exception", "EXCEPTION"],
  ["onHold", "On hold", "ON_HOLD"], ["rejected", "Rejected", "REJECTED"],
  ["posted", "Posted", "POSTED"], ["postingFailed", "Posting failed", "POSTING_FAILED"],
  ["scheduled", "Scheduled", "SCHEDULED"], ["paid", "Paid", "PAID"],
];
const FIGURES = `query DashboardFigures {
  viewer { subject roles scopes facilityIds }
  ${FUNNEL.map(([alias, , status]) =>
    `${alias}: invoices${status ? `(filter: {status: [${status}]})` : ""} { totalCount }`).join("\n  ")}
  invoiceAging { bucket firstDay lastDay count total { amount currency } }
  exceptionReasonCounts { facility { id name } code count }
  exceptionQueue(first: 10) { totalCount edges { node {
    id receivedAt total { amount currency } facility { id } assignedTo exceptions { code } } } }
  failedPostings: invoices(filter: {status: [POSTING_FAILED]}, first: 100) { edges { node { id } } }
  payments(filter: {status: [FAILED, RELEASE_FAILED, SCHEDULED]}, first: 10) { edges { node {
    id scheduledDate status amount { amount currency } supplier { legalName } } } }
  paymentRuns(filter: {status: [PROPOSED, APPROVED]}, first: 10) { edges { node {
    id payDate status total { amount currency } paymentCount facility { id } } } }
}`;
const CONNECTORS = "query DashboardConnectors { connectors { system reachable breaker failures lastError } }";
const LIVE = "subscription DashboardLive { invoiceStatusChanged { invoiceId status } }";

const PRODUCT = "/products/finance-ops/v1/graphql";
const OPERATORS = "/graphql";
let token = null;
let refreshing = null;

function $(id) { return document.getElementById(id); }

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillTable(id, rows) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}

function bars(id, rows, warn) {
  const max = Math.max(1, ...rows.map(([, value]) => value));
  $(id).replaceChildren(...rows.map(([label, value, key]) => {
    const row = document.createElement("div");
    row.className = "row";
    row.dataset.key = key;
    const name = document.createElement("span");
    name.textContent = label;
    const track = document.createElement("div");
    const bar = document.createElement("div");
    bar.className = warn && warn.includes(key) ? "bar warn" : "bar";
    bar.style.width = `${(100 * value) / max}%`;
    track.append(bar);
    const shown = document.createElement("span");
    shown.className = "value";
    shown.textContent = value.toLocaleString("en-US");
    row.append(name, track, shown);
    return row;
  }));
}

function money(m) { return `${Number(m.amount).toLocaleString("en-US", { minimumFractionDigits: 2 })} ${m.currency}`; }

async function graphql(query, variables, path) {
  const response = await fetch(path || PRODUCT, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: variables || {} }),
  });
  if (response.status === 401) { signOut("Your token was refused (expired?): sign in again."); return null; }
  if (response.status === 403 && !path) {  // a role finance-ops does not admit, e.g. a supplier
    const refused = await response.json();
    signOut(`Not for this token: ${refused.errors[0].message}`);
    return null;
  }
  return response.json();
}

async function refresh() {
  const body = await graphql(FIGURES);
  if (!body || !body.data) return;
  const d = body.data;
  const viewer = d.viewer;
  $("who").textContent = `Signed in as ${viewer.subject} (${viewer.roles.join(", ")})` +
    (viewer.facilityIds ? ` · facilities ${viewer.facilityIds.join(", ")}` : " · every facility");
  bars("funnel", FUNNEL.map(([alias, label]) => [label, d[alias] ? d[alias].totalCount : 0, alias]),
    ["exception", "postingFailed", "rejected"]);
  if (d.invoiceAging) {
    bars("aging", d.invoiceAging.map((b) => [
      b.lastDay === null ? `${b.firstDay}+ days` : `${b.firstDay}–${b.lastDay} days`, b.count, b.bucket]),
      ["OVER_30", "DAYS_15_30"]);
  }
  if (d.exceptionReasonCounts) {
    fillTable("reasons", d.exceptionReasonCounts
      .slice().sort((a, b) => b.count - a.count)
      .map((r) => [cell(r.facility ? r.facility.name : "?"), cell(r.code), cell(r.count, "num")]));
  }
  if (d.exceptionQueue) {
    const now = Date.now();
    fillTable("queue", d.exceptionQueue.edges.map(({ node }) => {
      const days = Math.floor((now - Date.parse(node.receivedAt)) / 86400000);
      return [cell(node.id), cell(node.facility ? node.facility.id : ""),
        cell(node.receivedAt.slice(0, 10)), cell(days, days > 7 ? "num bad" : "num"),
        cell(money(node.total), "num"), cell(node.assignedTo || "the cost center's approvers"),
        cell(node.exceptions.map((e) => e.code).join(", "))];
    }));
  }
  const failed = d.failedPostings ? d.failedPostings.edges.map((e) => e.node.id) : [];
  $("dead-letters").textContent = String(d.postingFailed ? d.postingFailed.totalCount : failed.length);
  const replay = $("replay");
  replay.hidden = !(viewer.scopes.includes("admin") && failed.length > 0);
  replay.onclick = () => replayAll(failed);
  if (d.payments) {
    const failed = (status) => status === "FAILED" || status === "RELEASE_FAILED";
    const sorted = d.payments.edges.map((e) => e.node)
      .sort((a, b) => Number(failed(b.status)) - Number(failed(a.status)));  // exceptions first
    fillTable("payments", sorted.map((node) => [
      cell(node.id), cell(node.supplier ? node.supplier.legalName : ""), cell(node.scheduledDate),
      cell(money(node.amount), "num"), cell(node.status, failed(node.status) ? "bad" : "")]));
  }
  if (d.paymentRuns) {
    fillTable("runs", d.paymentRuns.edges.map(({ node }) => [
      cell(node.id), cell(node.facility ? node.facility.id : ""), cell(node.payDate),
      cell(node.paymentCount, "num"), cell(money(node.total), "num"), cell(node.status)]));
  }
  if (viewer.scopes.includes("admin")) {
    const found = await graphql(CONNECTORS, {}, OPERATORS);
    if (found && found.data && found.data.connectors) {
      fillTable("connectors", found.data.connectors.map((c) => [
        cell(c.system), cell(c.reachable ? "yes" : "no", c.reachable ? "good" : "bad"),
        cell(c.breaker, c.breaker === "CLOSED" ? "good" : "bad"), cell(c.failures, "num"),
        cell(c.lastError || "")]));
    }
  }
  $("updated").textContent = new Date().toLocaleTimeString("en-US");
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
}

async function replayAll(ids) {
  let done = 0;
  for (const id of ids) {
    const answer = await graphql(
      "mutation Replay($id: ID!) { retryPosting(invoiceId: $id) { invoice { id status } userErrors { code } } }",
      { id });
    if (answer && answer.data && answer.data.retryPosting.invoice) done += 1;
  }
  $("replayed").textContent = `Replayed ${done} of ${ids.length}; each posts once at most.`;
  scheduleRefresh();
}

function scheduleRefresh() {
  if (refreshing) return;
  refreshing = setTimeout(async () => { refreshing = null; await refresh(); }, 250);
}

function listen() {
  // A browser cannot set an Authorization header on a WebSocket: the token is offered as a
  // subprotocol entry, which the server turns into the header; only graphql-transport-ws is chosen.
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${PRODUCT}`;
  const socket = new WebSocket(url, ["graphql-transport-ws", `apgraph.bearer.${token}`]);
  socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "connection_ack") {
      $("live").className = "on";
      socket.send(JSON.stringify({ id: "live", type: "subscribe", payload: { query: LIVE } }));
    } else if (frame.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    } else if (frame.type === "next") {
      scheduleRefresh();
    }
  };
  socket.onclose = (closed) => {
    $("live").className = "off";
    if (closed.code === 4401 || closed.code === 4403) { signOut("Your session ended: sign in again."); return; }
    setTimeout(() => { if (token) { scheduleRefresh(); listen(); } }, 3000);  // catch up, then listen
  };
}

function signOut(reason) {
  token = null;
  sessionStorage.removeItem("apgraph.token");
  $("board").hidden = true;
  $("sign-in").hidden = false;
  $("who").textContent = reason || "Not signed in";
}

function start(given) {
  token = given;
  sessionStorage.setItem("apgraph.token", token);
  $("sign-in").hidden = true;
  $("board").hidden = false;
  refresh();
  listen();
}

document.addEventListener("DOMContentLoaded", () => {
  // A token handed over in the fragment (never sent to the server) is kept for this tab only.
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromFragment) history.replaceState(null, "", location.pathname);
  const kept = fromFragment || sessionStorage.getItem("apgraph.token");
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = $("token").value.trim();
    if (typed) start(typed);
  });
  if (kept) start(kept); else signOut();
});
