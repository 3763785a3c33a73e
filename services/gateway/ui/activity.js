// The activity tab: filters, a chart of items per day over the period, the feed with
// info and resend on message items, and the feed as a download.

import { api, contactPath } from "./api.js";
import { $, attempt, fill, h, notify, openModal, text, when } from "./dom.js";

const PAGE = 200;
const MAX_PAGES = 10;   // the chart counts at most 2,000 items; the feed says so beyond
const SHOWN = 50;       // items rendered at a time
const SVG = "http://www.w3.org/2000/svg";
let contact = null;
let items = [];
let shown = 0;
let asked = 0;  // a load started later wins over one still under way

function filters() {
  const form = new FormData($("#feed-filters"));
  const query = {};
  for (const name of ["channel", "origin", "type", "period"]) query[name] = form.get(name);
  return query;
}

export async function loadActivity(current) {
  contact = current;
  const query = filters();
  const ask = ++asked;
  const loaded = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await attempt(() => api.get(contactPath(contact.id, "/activity"),
      { ...query, limit: PAGE, cursor }));
    if (!answer || ask !== asked) return;
    loaded.push(...answer.data);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  items = loaded;
  shown = 0;
  fill($("#feed"));
  drawChart(Number.parseInt(query.period, 10), items);
  showMore();
}

function showMore() {
  const next = items.slice(shown, shown + SHOWN);
  shown += next.length;
  if (items.length === 0) $("#feed").append(h("li", { class: "muted" }, "Nothing in this period."));
  $("#feed").append(...next.map(feedItem));
  $("#feed-more").hidden = shown >= items.length;
}

function summary(item) {
  const details = item.details || {};
  const parts = [details.name, details.segment_name, details.reason, details.status,
    details.external_id, details.error].filter(Boolean);
  if (details.properties) parts.push(JSON.stringify(details.properties));
  return parts.join(" · ");
}

function feedItem(item) {
  const message = Boolean(item.message_id);
  return h("li", { class: "item", dataset: { id: item.id, channel: item.channel } },
    h("time", { datetime: item.occurred_at }, when(item.occurred_at)),
    h("span", { class: "badge" }, item.channel),
    h("strong", {}, item.type.replaceAll("_", " ")),
    item.origin ? h("span", { class: "muted" }, item.origin) : null,
    h("span", { class: "summary" }, summary(item)),
    h("span", { class: "spacer" }),
    h("button", { type: "button", class: "secondary small", onclick: () => info(item) },
      "Info"),
    message ? h("button", { type: "button", class: "secondary small",
      onclick: () => resend(item) }, "Resend") : null);
}

async function info(item) {
  const detail = await attempt(() => api.get(`/v1/activity/${encodeURIComponent(item.id)}`));
  if (!detail) return;
  const message = detail.message || {};
  const content = message.content || {};
  const rows = [["When", when(detail.occurred_at)], ["Channel", detail.channel],
    ["Type", detail.type], ["Origin", detail.origin], ["Details", detail.details]];
  if (detail.message_id) {
    rows.push(["Message", detail.message_id], ["Status", message.status],
      ["Subject", content.subject], ["Content", content.text || content.body || content.html],
      ["Resend of", message.resend_of], ["Error", detail.message_error]);
  }
  fill($("#info-fields"), rows.map(([label, value]) => [h("dt", {}, label),
    h("dd", {}, text(value))]));
  fill($("#info-history"), (message.history || []).map((change) => h("li", {},
    h("strong", {}, change.status), " ", when(change.at))));
  await openModal($("#info"));
}

async function resend(item) {
  const queued = await attempt(
    () => api.post(`/v1/messages/${encodeURIComponent(item.message_id)}/resend`));
  if (queued) notify(`Sent again: message ${queued.id} is ${queued.status}`);
}

function day(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-` +
    String(date.getDate()).padStart(2, "0");
}

function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// Items per local day, oldest left, one bar a day of the period.
function drawChart(days, list) {
  const counts = new Map();
  const today = new Date();
  for (let back = days - 1; back >= 0; back -= 1) {
    const date = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back);
    counts.set(day(date), 0);
  }
  for (const item of list) {
    const key = day(new Date(item.occurred_at));
    if (counts.has(key)) counts.set(key, counts.get(key) + 1);
  }
  const values = [...counts.values()];
  const top = Math.max(1, ...values);
  const width = 600;
  const height = 100;
  const slot = width / values.length;
  const bars = [...counts.entries()].map(([date, count], index) => {
    const barHeight = Math.round((count / top) * (height - 4));
    return svg("rect", { x: (index * slot + 1).toFixed(1), y: height - barHeight,
      width: Math.max(1, slot - 2).toFixed(1), height: barHeight, class: "bar" },
    svg("title", {}, `${date}: ${count}`));
  });
  const keys = [...counts.keys()];
  // The bars stretch to the width; the labels are HTML so they do not stretch with them.
  fill($("#chart"),
    h("div", { class: "axis" }, h("span", {}, `${top} a day at most`)),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `Activity per day: ${list.length} items in ${days} days` }, ...bars),
    h("div", { class: "axis row" }, h("span", {}, keys[0]), h("span", { class: "spacer" }),
      h("span", {}, keys.at(-1))),
    h("figcaption", { class: "muted" },
      `${list.length} items in the last ${days} days` +
      (list.length >= PAGE * MAX_PAGES ? " (the chart counts the newest 2,000)" : "")));
}

async function download() {
  const format = new FormData($("#feed-filters")).get("format");
  const blob = await attempt(() => api.blob(contactPath(contact.id, "/activity/export"),
    { format }));
  if (!blob) return;
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: `activity-${contact.id}.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

$("#feed-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  loadActivity(contact);
});
$("#feed-more").addEventListener("click", showMore);
$("#feed-download").addEventListener("click", download);
