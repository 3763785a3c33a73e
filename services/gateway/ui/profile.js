// A contact's profile: the person (left), subscriptions per channel, the actions menu,
// and the tabs, each of which loads its own data when opened.

import { api, contactPath } from "./api.js";
import { loadActivity } from "./activity.js";
import { BLACKLISTS, CHANNELS, GENDERS, displayName } from "./contact.js";
import { $, askFor, attempt, confirmAction, fill, h, notify, text, when } from "./dom.js";
import { loadNotes, loadSegments, loadVariables } from "./details.js";
import { openSend } from "./send.js";

const TABS = { activity: loadActivity, variables: loadVariables, segments: loadSegments,
  notes: loadNotes };
let current = null;  // the contact on screen, as last read
let tab = "activity";
const STOCK_AVATAR = "/ui/avatar.svg";

export async function openProfile(id) {
  fill($("#person"), h("p", { class: "muted" }, "Loading…"));
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

function renderPerson(contact) {
  const lists = BLACKLISTS.filter((list) => contact.blacklists?.[list]);
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
    h("dl", { class: "fields" }, field("ID", contact.id), field("User id", contact.user_id),
      field("Email", contact.email), field("Phone", contact.phone)),
    h("h2", {}, "Personal data"),
    h("dl", { class: "fields" }, field("Birthday", contact.birthday), field("Age", contact.age),
      field("Gender", GENDERS[contact.gender]), field("Language", contact.language),
      field("Timezone", contact.timezone), field("Address", address(contact.address))),
    h("h2", {}, "About"),
    h("dl", { class: "fields" }, field("Source", contact.source),
      field("Score", contact.contact_score), field("Created", when(contact.created_at)),
      field("Created via", contact.created_via), field("Last update", when(contact.updated_at))));
}

async function setSubscription(channel, status) {
  await change(() => api.put(contactPath(current.id, `/subscriptions/${channel}`),
    { status, reason: "changed on the contact page" }), `${channel}: ${status}`);
}

function renderSubscriptions(contact) {
  const rows = CHANNELS.map((channel) => {
    const subscription = contact.subscriptions?.[channel] || { status: "never" };
    const subscribed = subscription.status === "subscribed";
    return h("tr", { dataset: { channel } },
      h("td", {}, channel),
      h("td", {}, h("span", { class: `badge ${subscription.status}` }, subscription.status)),
      h("td", {}, when(subscription.changed_at)),
      h("td", {}, subscription.reason || ""),
      h("td", {}, h("button", {
        type: "button", class: "secondary small",
        onclick: () => setSubscription(channel, subscribed ? "unsubscribed" : "subscribed"),
      }, subscribed ? "Unsubscribe" : "Subscribe")));
  });
  fill($("#subscriptions"), h("h2", {}, "Subscriptions"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Channel"), h("th", {}, "Status"),
      h("th", {}, "Since"), h("th", {}, "Reason"), h("th", {}))), h("tbody", {}, rows)));
}

async function blacklist(list) {
  const reason = await askFor(`Add to the ${list} black list`, "Reason");
  if (reason === null) return;
  await change(() => api.put(contactPath(current.id, `/blacklists/${list}`),
    reason ? { reason } : {}), `Added to the ${list} black list`);
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
  const path = (rest) => contactPath(contact.id, rest);
  const items = [contact.status === "active"
    ? menuItem("Deactivate", () => change(() => api.post(path("/deactivate")), "Deactivated"))
    : menuItem("Activate", () => change(() => api.post(path("/activate")), "Activated"))];
  for (const list of BLACKLISTS) {
    items.push(contact.blacklists?.[list]
      ? menuItem(`Remove from the ${list} black list`, () => change(
        () => api.del(path(`/blacklists/${list}`)), `Removed from the ${list} black list`))
      : menuItem(`Add to the ${list} black list`, () => blacklist(list)));
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
