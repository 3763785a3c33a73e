// The send dialog: a channel (each says why it cannot be used, if it cannot), then an
// approved template of that channel or content written here: for email a subject, text
// and HTML (a small editor; the sender tracks its links and adds the open pixel), with
// each channel's limits shown as the text is typed (an SMS's length and segments).

import { api } from "./api.js";
import { CHANNELS, blockedReason } from "./contact.js";
import { $, attempt, fill, h, notify } from "./dom.js";

let contact = null;
let templates = [];
let afterSend = () => {};

// GSM 03.38: the basic set counts one, the extension table two; anything else makes
// the whole SMS UCS-2.
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
  + "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

export function smsSize(text) {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) septets += 1;
    else if (GSM_EXTENDED.includes(char)) septets += 2;
    else {
      const units = [...text].reduce((sum, one) => sum + (one.codePointAt(0) > 0xffff ? 2 : 1), 0);
      return { encoding: "UCS-2", length: units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: "GSM-7", length: septets,
    segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

// What each channel allows, as one line under the text.
const LIMITS = {
  telegram: [4096, "Telegram shows at most 4,096 characters a message"],
  viber: [7000, "Viber takes at most 7,000 characters, and approved templates only"],
  webpush_desktop: [120, "browsers show about the first 120 characters of a push"],
  webpush_mobile: [120, "browsers show about the first 120 characters of a push"],
  app_push: [4000, "FCM takes about 4,000 bytes of notification and data a push"],
};

function showLimits() {
  const channel = $("#send-channel").value;
  const text = $("#send-body").value;
  let line;
  if (channel === "sms") {
    const size = smsSize(text);
    line = `${size.length} characters (${size.encoding}) · ${size.segments} SMS segment`
      + `${size.segments === 1 ? "" : "s"} · one segment holds `
      + `${size.encoding === "GSM-7" ? "160 (153 when split)" : "70 (67 when split)"}`;
  } else if (channel === "email") {
    line = `${[...text].length} characters of text · subject ${[...$("#send-subject").value]
      .length} of 500`;
  } else {
    const [most, why] = LIMITS[channel];
    const length = [...text].length;
    line = `${length} of ${most.toLocaleString()} characters: ${why}`;
    $("#send-limits").classList.toggle("error", length > most);
  }
  if (channel === "sms" || channel === "email") $("#send-limits").classList.remove("error");
  $("#send-limits").textContent = line;
}

export async function openSend(current, after) {
  contact = current;
  afterSend = after;
  fill($("#send-channel"), CHANNELS.map((channel) => {
    const why = blockedReason(contact, channel);
    return h("option", { value: channel }, why ? `${channel} (not allowed)` : channel);
  }));
  const usable = CHANNELS.find((channel) => !blockedReason(contact, channel));
  $("#send-channel").value = usable || CHANNELS[0];
  for (const field of ["#send-subject", "#send-body", "#send-html", "#send-link-url"]) {
    $(field).value = "";
  }
  $("#send-error").hidden = true;
  const page = await attempt(() => api.get("/v1/templates", { limit: 200 }));
  templates = page ? page.data : [];
  channelChosen();
  $("#send").showModal();
}

function channelChosen() {
  const channel = $("#send-channel").value;
  const why = blockedReason(contact, channel);
  const note = $("#send-why");
  note.textContent = why ? `Not allowed: ${why}.` : "";
  note.hidden = !why;
  $("#send-submit").disabled = Boolean(why);
  const own = templates.filter((template) => template.channel === channel && template.approved);
  fill($("#send-template"), h("option", { value: "" }, "— none: write the content below —"),
    own.map((template) => h("option", { value: template.id }, template.name)));
  // Only email has a subject and HTML.
  $("#send-subject-field").hidden = channel !== "email";
  $("#send-html-field").hidden = channel !== "email";
  templateChosen();
  showLimits();
}

function templateChosen() {
  $("#send-content").disabled = Boolean($("#send-template").value);
}

// The HTML editor's buttons: the selection wrapped in a tag.
function wrap(before, after) {
  const area = $("#send-html");
  const { selectionStart: start, selectionEnd: end, value } = area;
  area.value = value.slice(0, start) + before + value.slice(start, end) + after + value.slice(end);
  area.focus();
  area.setSelectionRange(start + before.length, end + before.length);
}

function escapeHtml(text) {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function link() {
  const url = $("#send-link-url").value.trim();
  if (!/^https?:\/\//.test(url)) {
    notify("Give the link's address first: http:// or https://", "error");
    $("#send-link-url").focus();
    return;
  }
  wrap(`<a href="${escapeHtml(url)}">`, "</a>");
}

function fromText() {
  const paragraphs = $("#send-body").value.split(/\n{2,}/).filter((part) => part.trim());
  $("#send-html").value = paragraphs.map((part) => `<p>${escapeHtml(part.trim())
    .replaceAll("\n", "<br>")}</p>`).join("\n");
}

function body() {
  const channel = $("#send-channel").value;
  const message = { contact: { id: contact.id }, channel };
  const template = $("#send-template").value;
  if (template) {
    message.template_id = template;
  } else {
    message.content = { text: $("#send-body").value };
    if (channel === "email") {
      message.content.subject = $("#send-subject").value;
      const html = $("#send-html").value.trim();
      if (html) message.content.html = html;
    }
  }
  return message;
}

async function send(event) {
  event.preventDefault();
  try {
    const queued = await api.post("/v1/messages", body());
    $("#send").close();
    notify(`Message ${queued.id} is ${queued.status}`);
    afterSend();
  } catch (error) {
    // A 409 says why the contact cannot receive it; the dialog stays open to change it.
    const shown = $("#send-error");
    shown.textContent = error.message;
    shown.hidden = false;
  }
}

$("#send-channel").addEventListener("change", channelChosen);
$("#send-template").addEventListener("change", templateChosen);
$("#send-body").addEventListener("input", showLimits);
$("#send-subject").addEventListener("input", showLimits);
$("#send-bold").addEventListener("click", () => wrap("<strong>", "</strong>"));
$("#send-italic").addEventListener("click", () => wrap("<em>", "</em>"));
$("#send-link").addEventListener("click", link);
$("#send-from-text").addEventListener("click", fromText);
$("#send-form").addEventListener("submit", (event) => {
  if (event.submitter?.value === "yes") send(event);
});
