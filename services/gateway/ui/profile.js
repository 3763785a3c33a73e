// A contact's profile: the person (left), subscriptions per channel, the actions menu,
// and the tabs, each of which loads its own data when opened.

import { api, contactPath } from "./api.js";
import { loadActivity } from "./activity.js";
import {
  BLACKLISTS, CHANNELS, GENDERS, displayName, hasListedAddress,
} from "./contact.js";
import { $, askFor, attempt, confirmAction, fill, h, notify, text, when } from "./dom.js";
import { loadNotes, loadSegments, loadVariables } from "./details.js";
import { openSend } from "./send.js";
import { vocabulary } from "./vocab.js";

const TABS = { activity: loadActivity, variables: loadVariables, segments: loadSegments,
  notes: loadNotes };
let current = null;  // the contact on screen, as last read
let tab = "activity";
const STOCK_AVATAR = "/ui/avatar.svg";

let categories = null;  // the account's categories, read once
let words = { open_channels: [] };  // the server's vocabulary

export async function openProfile(id) {
  fill($("#person"), h("p", { class: "muted" }, "Loading…"));
  categories ??= api.get("/v1/categories", { limit: 200 }).then((page) => page.data)
    .catch(() => []);
  words = (await attempt(vocabulary)) || words;
  const contact = await attempt(() => api.get(contactPath(id)));
  if (!contact) {
    fill($("#person"), h("p", { class: "error" }, "This contact could not be loaded."));
    return;
  }
  render(contact);
  openTab(tab);
}

function render(contact) {
  current = contact;
  renderPerson(contact);
  renderCategories(contact);
  renderSubscriptions(contact);
  renderActions(contact);
}

// Every action answers with the contact as stored: the page shows that.
async function change(action, done) {
  const contact = await attempt(action, done);
  if (contact) render(contact);
  return contact;
}

function field(label, value) {
  return [h("dt", {}, label), h("dd", {}, text(value))];
}

// The contact's picture, or the stock one when there is none or it does not load.
function avatar(contact) {
  const image = h("img", { class: "avatar", alt: "", src: contact.avatar_url || STOCK_AVATAR });
  image.addEventListener("error", () => { image.src = STOCK_AVATAR; }, { once: true });
  return image;
}

async function editAvatar() {
  const url = await askFor("Avatar", "Image URL (http or https; empty removes it)",
    current.avatar_url || "");
  if (url === null) return;
  await change(() => api.patch(contactPath(current.id), { avatar_url: url || null }),
    "Avatar saved");
}

function address(value) {
  if (!value) return null;
  return ["street", "city", "region", "postcode", "country"].map((part) => value[part])
    .filter(Boolean).join(", ") || null;
}

function webpushDevices(contact) {
  const devices = contact.channels?.webpush || [];
  if (!devices.length) return null;
  return h("ul", { class: "plain" }, devices.map((device) => {
    let host = device.endpoint;
    try { host = new URL(device.endpoint).host; } catch { /* shown as it is */ }
    return h("li", { dataset: { id: device.id } }, `${device.device} · ${host}`);
  }));
}

function appDevices(contact) {
  const devices = contact.channels?.app_push || [];
  if (!devices.length) return null;
  return h("ul", { class: "plain" }, devices.map((device) =>
    h("li", { dataset: { id: device.id } }, `${device.platform} · ${device.app}`)));
}

function blacklistFields(contact) {
  return BLACKLISTS.filter((list) => contact.blacklists?.[list]).map((list) => {
    const entry = contact.blacklists[list];
    return [h("dt", {}, `${list[0].toUpperCase()}${list.slice(1)}`),
      h("dd", { class: "blacklisted-entry", dataset: { list } },
        `since ${when(entry.since)}`, h("br"), `reason: ${entry.reason || "none given"}`)];
  });
}

function renderPerson(contact) {
  const lists = BLACKLISTS.filter((list) => contact.blacklists?.[list]);
  const channels = contact.channels || {};
  fill($("#person"),
    h("div", { class: "who" }, avatar(contact),
      h("button", { type: "button", class: "link", id: "avatar-edit", onclick: editAvatar },
        "Edit avatar")),
    h("h1", { id: "contact-name" }, displayName(contact)),
    h("p", { class: "labels" },
      h("span", { class: `badge ${contact.status}`, id: "contact-status" }, contact.status),
      lists.map((list) => h("span", {
        class: "badge blacklisted", title: contact.blacklists[list].reason || "",
      }, `${list} black-listed`))),
    h("h2", {}, "Identifiers"),
    h("dl", { class: "fields", id: "identifiers" }, field("ID", contact.id),
      field("User id", contact.user_id), field("Email", contact.email),
      field("Phone", contact.phone), field("Telegram chat", channels.telegram?.chat_id),
      field("Viber user", channels.viber?.user_id),
      [h("dt", {}, "Web push"), h("dd", {}, webpushDevices(contact) || "—")],
      [h("dt", {}, "App push"), h("dd", {}, appDevices(contact) || "—")]),
    lists.length ? [h("h2", {}, "Black lists"),
      h("dl", { class: "fields", id: "blacklists" }, blacklistFields(contact))] : null,
    h("h2", {}, "Personal data"),
    h("dl", { class: "fields" }, field("Birthday", contact.birthday), field("Age", contact.age),
      field("Gender", GENDERS[contact.gender]), field("Language", contact.language),
      field("Timezone", contact.timezone), field("Address", address(contact.address))),
    h("h2", {}, "About"),
    h("dl", { class: "fields" }, field("Source", contact.source),
      field("Score", contact.contact_score), field("Created", when(contact.created_at)),
      field("Created via", contact.created_via), field("Last update", when(contact.updated_at))),
    h("section", { id: "categories", "aria-labelledby": "categories-title" }));
}

// Categories: every one the account has, with the contact's opt-in (editable, asked
// first), and those the contact holds that the account no longer lists.
async function renderCategories(contact) {
  const known = await categories;
  if (current !== contact) return;
  const held = contact.categories || {};
  const names = [...new Set([...known.map((c) => c.name), ...Object.keys(held)])];
  const about = new Map(known.map((c) => [c.name, c.description]));
  fill($("#categories"), h("h2", { id: "categories-title" }, "Categories"),
    names.length ? h("ul", { class: "plain categories" }, names.map((name) => {
      const state = held[name] === true ? "opted in" : held[name] === false ? "opted out"
        : "not asked";
      const id = `category-${name}`;
      return h("li", { dataset: { category: name } },
        h("input", { type: "checkbox", id, checked: held[name] === true,
          "aria-describedby": `${id}-state`,
          onchange: (event) => setCategory(name, event.target) }),
        h("label", { for: id, class: "inline" }, name),
        h("span", { class: "muted", id: `${id}-state` }, ` ${state}`
          + (about.get(name) ? ` · ${about.get(name)}` : "")));
    })) : h("p", { class: "muted" }, "The account has no categories."));
}

async function setCategory(name, box) {
  const optIn = box.checked;
  box.checked = !optIn;  // as stored until the change is confirmed and saved
  const sure = await confirmAction(
    optIn ? `Opt in to ${name}?` : `Opt out of ${name}?`,
    optIn ? `${displayName(current)} will be sent messages of the category ${name}.`
      : `${displayName(current)} will no longer be sent messages of the category ${name}; `
        + "those already queued are suppressed.",
    optIn ? "Opt in" : "Opt out");
  if (!sure) return;
  await change(() => api.patch(contactPath(current.id),
    { categories: { ...(current.categories || {}), [name]: optIn } }),
  `${name}: ${optIn ? "opted in" : "opted out"}`);
}

// What a change of a channel's subscription does, as the confirmation says it.
function consequence(channel, status) {
  return status === "subscribed"
    ? `${displayName(current)} will be subscribed to ${channel}: messages may be sent to `
      + "them there. The change and its reason go into the consent ledger."
    : `${displayName(current)} will be unsubscribed from ${channel}: nothing more is sent `
      + "there, and messages already queued are suppressed. The change and its reason go "
      + "into the consent ledger.";
}

async function setSubscription(channel, status) {
  const verb = status === "subscribed" ? "Subscribe" : "Unsubscribe";
  const reason = await askFor(`${verb} ${channel}?`, "Reason (kept in the consent ledger)",
    "changed on the contact page", { text: consequence(channel, status), button: verb });
  if (reason === null) return;
  await change(() => api.put(contactPath(current.id, `/subscriptions/${channel}`),
    { status, reason: reason || "changed on the contact page" }), `${channel}: ${status}`);
}

// A channel that needs the person's own address (a chat, a Viber user, a browser) and
// was never subscribed cannot be subscribed by hand: the person subscribes there.
function subscribable(channel, status) {
  return status !== "never" || words.open_channels.includes(channel);
}

function subscriptionControl(channel, subscription) {
  const subscribed = subscription.status === "subscribed";
  if (!subscribed && !subscribable(channel, subscription.status)) {
    return h("span", { class: "muted small" }, "only the person can subscribe");
  }
  const verb = subscribed ? "Unsubscribe" : "Subscribe";
  return h("button", {
    type: "button", class: "secondary small", "aria-label": `${verb} ${channel}`,
    onclick: () => setSubscription(channel, subscribed ? "unsubscribed" : "subscribed"),
  }, verb);
}

function renderSubscriptions(contact) {
  const rows = CHANNELS.map((channel) => {
    const subscription = contact.subscriptions?.[channel] || { status: "never" };
    return h("tr", { dataset: { channel } },
      h("td", {}, channel),
      h("td", {}, h("span", { class: `badge ${subscription.status}` }, subscription.status)),
      h("td", {}, when(subscription.changed_at)),
      h("td", {}, subscription.reason || ""),
      h("td", {}, subscriptionControl(channel, subscription)));
  });
  fill($("#subscriptions"), h("h2", { id: "subscriptions-title" }, "Subscriptions"),
    h("table", { "aria-labelledby": "subscriptions-title" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Channel"),
        h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Since"),
        h("th", { scope: "col" }, "Reason"),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Change")))),
      h("tbody", {}, rows)));
}

const ADDRESS_OF = { email: "email address", phone: "phone number", viber: "Viber user id" };

function addressOn(contact, list) {
  if (list === "viber") return contact.channels?.viber?.user_id;
  return contact[list];
}

async function blacklist(list) {
  const reason = await askFor(`Add to the ${list} black list?`, "Reason",
    "", {
      text: `The ${ADDRESS_OF[list]} ${addressOn(current, list)} goes onto the account's ${list} `
        + `black list: nothing is sent to it on any contact holding it, until it is taken off.`,
      button: "Add to black list",
    });
  if (reason === null) return;
  await change(() => api.put(contactPath(current.id, `/blacklists/${list}`),
    reason ? { reason } : {}), `Added to the ${list} black list`);
}

async function unblacklist(list) {
  const sure = await confirmAction(`Remove from the ${list} black list?`,
    `The ${ADDRESS_OF[list]} ${addressOn(current, list)} comes off the account's ${list} `
    + "black list: messages may be sent to it again where its channel is subscribed.",
    "Remove from black list");
  if (!sure) return;
  await change(() => api.del(contactPath(current.id, `/blacklists/${list}`)),
    `Removed from the ${list} black list`);
}

async function setStatus(status) {
  const activate = status === "active";
  const sure = await confirmAction(activate ? "Activate this contact?" : "Deactivate this contact?",
    activate
      ? `${displayName(current)} may be sent messages again, on each channel they are `
        + "subscribed to."
      : `${displayName(current)} will be sent nothing on any channel, and messages already `
        + "queued are suppressed, until the contact is activated again.",
    activate ? "Activate" : "Deactivate");
  if (!sure) return;
  await change(() => api.post(contactPath(current.id, activate ? "/activate" : "/deactivate")),
    activate ? "Activated" : "Deactivated");
}

async function erase() {
  const sure = await confirmAction("Delete this contact?",
    `${displayName(current)} and everything held on them (notes, activity, messages, ` +
    "segment membership) will be erased everywhere. This cannot be undone.", "Delete");
  if (!sure) return;
  const done = await attempt(() => api.del(contactPath(current.id)).then(() => true));
  if (!done) return;
  notify("The contact was erased.");
  location.hash = "#/";
}

function menuItem(label, action, className = "") {
  return h("button", {
    type: "button", class: className,
    onclick: () => { $("#actions").open = false; action(); },
  }, label);
}

function renderActions(contact) {
  const items = [contact.status === "active"
    ? menuItem("Deactivate…", () => setStatus("inactive"))
    : menuItem("Activate…", () => setStatus("active"))];
  for (const list of BLACKLISTS.filter((name) => hasListedAddress(contact, name))) {
    items.push(contact.blacklists?.[list]
      ? menuItem(`Remove from the ${list} black list…`, () => unblacklist(list))
      : menuItem(`Add to the ${list} black list…`, () => blacklist(list)));
  }
  items.push(menuItem("Delete contact…", erase, "danger-text"));
  fill($("#actions-items"), items);
}

function openTab(name) {
  tab = name;
  for (const button of document.querySelectorAll(".tabs [data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const panel of Object.keys(TABS)) $(`#tab-${panel}`).hidden = panel !== name;
  TABS[name](current);
}

for (const button of document.querySelectorAll(".tabs [data-tab]")) {
  button.addEventListener("click", () => openTab(button.dataset.tab));
}
window.addEventListener("plexus:contact", (event) => render(event.detail));
// After a send, the feed: the message appears there as the sender reports on it.
$("#send-open").addEventListener("click", () => openSend(current, () => openTab("activity")));
