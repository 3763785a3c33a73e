// The activity tab: filters (the status list follows the channel and origin chosen, from
// the server's vocabulary), a chart of items per day (per month over all time), the feed
// with each message named and Info laid out field by field, the contact's orders over its
// whole history whatever the period, and the feed as a download.

import { api, contactPath } from "./api.js";
import { $, attempt, confirmAction, fill, h, notify, openModal, when } from "./dom.js";
import { fieldList } from "./fields.js";
import { messageName, messageOf } from "./messages.js";
import { typesFor, vocabulary } from "./vocab.js";

const PAGE = 200;
const MAX_PAGES = 10;   // the chart counts at most 2,000 items; the feed says so beyond
const SHOWN = 50;       // items rendered at a time
const MONTHLY_AFTER = 92;  // days: a longer span is charted by month
const SVG = "http://www.w3.org/2000/svg";
let contact = null;
let items = [];
let shown = 0;
let asked = 0;  // a load started later wins over one still under way

function filters() {
  const form = new FormData($("#feed-filters"));
  const query = {};
  for (const name of ["channel", "origin", "type"]) query[name] = form.get(name);
  const period = form.get("period");
  // All time: no period at all, the whole history.
  query.period = period === "all" ? undefined : period;
  return query;
}

function options(select, values, blank) {
  const chosen = select.value;
  fill(select, h("option", { value: "" }, blank),
    values.map((value) => h("option", { value }, value.replaceAll("_", " "))));
  select.value = values.includes(chosen) ? chosen : "";
}

async function fillFilters() {
  const words = await attempt(vocabulary);
  if (!words) return;
  const form = $("#feed-filters");
  if (form.elements.channel.options.length === 1) {
    options(form.elements.channel, words.activity_channels, "All channels");
    options(form.elements.origin, words.origins, "All origins");
  }
  options(form.elements.type,
    typesFor(words, form.elements.channel.value, form.elements.origin.value), "All statuses");
}

export async function loadActivity(current) {
  contact = current;
  await fillFilters();
  loadOrders();
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
  drawChart(query.period ? Number.parseInt(query.period, 10) : null, items);
  showMore();
}

// The contact's orders over its whole history, whatever the period chosen: how many,
// their total by currency, and the latest.
async function loadOrders() {
  const orders = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await attempt(() => api.get(contactPath(contact.id, "/activity"),
      { channel: "other", type: "order", limit: PAGE, cursor }));
    if (!answer) return;
    orders.push(...answer.data);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  if (orders.length === 0) {
    fill($("#orders"), "Orders, all time: none.");
    return;
  }
  const totals = new Map();
  for (const order of orders) {
    const { amount, currency } = order.details || {};
    if (typeof amount === "number") totals.set(currency, (totals.get(currency) || 0) + amount);
  }
  const sums = [...totals].map(([currency, sum]) => `${sum.toLocaleString()} ${currency || ""}`);
  const latest = orders[0].details || {};
  fill($("#orders"), h("strong", {}, "Orders, all time: "),
    `${orders.length} · ${sums.join(" + ") || "no amount"} · latest ${
      latest.external_id || ""} ${latest.status || ""} on ${when(orders[0].occurred_at)}`);
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
  if (details.amount !== undefined) parts.push(`${details.amount} ${details.currency || ""}`);
  return parts.join(" · ");
}

function feedItem(item) {
  const message = Boolean(item.message_id);
  const label = item.type.replaceAll("_", " ");
  const name = h("span", { class: "message-name" });
  if (message) {
    // The message's subject or template name, read once per message.
    messageName(item.message_id).then((named) => { name.textContent = named; });
  }
  return h("li", { class: "item", dataset: { id: item.id, channel: item.channel } },
    h("time", { datetime: item.occurred_at }, when(item.occurred_at)),
    h("span", { class: "badge" }, item.channel),
    h("strong", {}, label),
    item.origin ? h("span", { class: "muted" }, item.origin) : null,
    message ? name : null,
    h("span", { class: "summary" }, summary(item)),
    h("span", { class: "spacer" }),
    h("button", { type: "button", class: "secondary small", onclick: () => info(item),
      "aria-label": `Info: ${label} on ${when(item.occurred_at)}` }, "Info"),
    message ? h("button", { type: "button", class: "secondary small",
      "aria-label": `Resend the message of ${when(item.occurred_at)}`,
      onclick: () => resend(item) }, "Resend") : null);
}

// A campaign's or workflow's name, by its id; the id alone when it cannot be read (gone,
// or a key without campaigns:read).
async function named(kind, id) {
  try {
    const found = await api.get(`/v1/${kind}/${encodeURIComponent(id)}`);
    return `${found.name} (${id})`;
  } catch {
    return id;
  }
}

// What started a workflow's run: a custom event, a segment entered, a date coming round.
function causeText(cause) {
  if (!cause || typeof cause !== "object") return cause;
  if (cause.segment_id) return `entered the segment ${cause.segment_id}`;
  if (cause.date_field) return `the date in ${cause.date_field.replaceAll("_", " ")}`;
  if (cause.event_id) return `the event ${cause.event_id}`;
  return Object.entries(cause).map(([key, value]) => `${key} ${value}`).join(", ");
}

// What triggered a message, when it says: a campaign (and its A/B variant) or a workflow's
// step with its run and cause.
async function triggerRows(trigger) {
  if (!trigger) return [];
  const rows = [];
  if (trigger.campaign_id) rows.push(["Campaign", await named("campaigns", trigger.campaign_id)]);
  if (trigger.variant) rows.push(["A/B variant", trigger.variant]);
  if (trigger.workflow_id) rows.push(["Workflow", await named("workflows", trigger.workflow_id)]);
  if (trigger.step !== undefined && trigger.step !== null) rows.push(["Step", trigger.step]);
  if (trigger.run_id) rows.push(["Run", trigger.run_id]);
  if (trigger.cause) rows.push(["Started by", causeText(trigger.cause)]);
  const shown = new Set(["campaign_id", "variant", "workflow_id", "run_id", "step", "cause"]);
  return [...rows, ...Object.entries(trigger).filter(([key]) => !shown.has(key))];
}

async function info(item) {
  const detail = await attempt(() => api.get(`/v1/activity/${encodeURIComponent(item.id)}`));
  if (!detail) return;
  fill($("#info-fields"), fieldList([["When", when(detail.occurred_at)],
    ["Channel", detail.channel], ["Status", detail.type], ["Origin", detail.origin],
    ...Object.entries(detail.details || {})]));
  const message = detail.message;
  $("#info-message").hidden = !detail.message_id;
  if (detail.message_id) {
    const content = message?.content || {};
    const name = await messageName(detail.message_id, message);
    fill($("#info-message-fields"), fieldList([["Id", detail.message_id], ["Name", name],
      ["Status", message?.status], ["Category", message?.category],
      ["Subject", content.subject], ["Text", content.text || content.body],
      ["HTML", content.html], ["Resend of", message?.resend_of],
      ["Created", message ? when(message.created_at) : null],
      ["Error", detail.message_error]].filter(([, value]) => value !== undefined && value !== null
      && value !== "")));
    const trigger = await triggerRows(message?.trigger);
    $("#info-trigger").hidden = trigger.length === 0;
    fill($("#info-trigger-fields"), fieldList(trigger));
    fill($("#info-history"), (message?.history || []).map((change) => h("li", {},
      h("strong", {}, change.status), " ", when(change.at),
      Object.keys(change.details || {}).length
        ? h("dl", { class: "fields" }, fieldList(Object.entries(change.details))) : null)));
  }
  await openModal($("#info"));
}

async function resend(item) {
  const message = await messageOf(item.message_id);
  const named = await messageName(item.message_id);
  const sure = await confirmAction("Send this message again?",
    `“${named}” will be sent again on ${item.channel} to ${contact.email || contact.phone
      || "this contact"}, as a new message${message?.status ? ` (this one is ${message.status})`
      : ""}.`, "Resend");
  if (!sure) return;
  const queued = await attempt(
    () => api.post(`/v1/messages/${encodeURIComponent(item.message_id)}/resend`));
  if (queued) notify(`Sent again: message ${queued.id} is ${queued.status}`);
}

function day(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-` +
    String(date.getDate()).padStart(2, "0");
}

const month = (date) => day(date).slice(0, 7);

function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// The buckets of the chart, oldest first: one a day of the period, or over all time from
// the oldest item loaded, one a day up to three months, else one a month.
function buckets(days, list) {
  const today = new Date();
  const oldest = list.length ? new Date(list.at(-1).occurred_at) : today;
  const span = days || Math.max(7, Math.ceil((today - oldest) / 86400000) + 1);
  const keyOf = span > MONTHLY_AFTER ? month : day;
  const counts = new Map();
  for (let back = span - 1; back >= 0; back -= 1) {
    counts.set(keyOf(new Date(today.getFullYear(), today.getMonth(), today.getDate() - back)), 0);
  }
  for (const item of list) {
    const key = keyOf(new Date(item.occurred_at));
    if (counts.has(key)) counts.set(key, counts.get(key) + 1);
  }
  return { counts, unit: keyOf === month ? "month" : "day", span };
}

function drawChart(days, list) {
  const { counts, unit, span } = buckets(days, list);
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
  const over = days ? `the last ${days} days` : `all time (${span} days)`;
  // The bars stretch to the width; the labels are HTML so they do not stretch with them.
  fill($("#chart"),
    h("div", { class: "axis" }, h("span", {}, `${top} a ${unit} at most`)),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `Activity per ${unit}: ${list.length} items in ${over}` }, ...bars),
    h("div", { class: "axis row" }, h("span", {}, keys[0]), h("span", { class: "spacer" }),
      h("span", {}, keys.at(-1))),
    h("figcaption", { class: "muted" },
      `${list.length} items in ${over}` +
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
for (const name of ["channel", "origin"]) {
  $("#feed-filters").elements[name].addEventListener("change", fillFilters);
}
$("#feed-more").addEventListener("click", showMore);
$("#feed-download").addEventListener("click", download);
