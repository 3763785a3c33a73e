// The send dialog: a channel (each says why it cannot be used, if it cannot), then an
// approved template of that channel or content written here.

import { api } from "./api.js";
import { CHANNELS, blockedReason } from "./contact.js";
import { $, attempt, fill, h, notify } from "./dom.js";

let contact = null;
let templates = [];
let afterSend = () => {};

export async function openSend(current, after) {
  contact = current;
  afterSend = after;
  fill($("#send-channel"), CHANNELS.map((channel) => {
    const why = blockedReason(contact, channel);
    return h("option", { value: channel }, why ? `${channel} (not allowed)` : channel);
  }));
  const usable = CHANNELS.find((channel) => !blockedReason(contact, channel));
  $("#send-channel").value = usable || CHANNELS[0];
  $("#send-subject").value = "";
  $("#send-body").value = "";
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
  $("#send-subject-field").hidden = channel !== "email";  // only email has a subject
  templateChosen();
}

function templateChosen() {
  $("#send-content").disabled = Boolean($("#send-template").value);
}

function body() {
  const channel = $("#send-channel").value;
  const message = { contact: { id: contact.id }, channel };
  const template = $("#send-template").value;
  if (template) {
    message.template_id = template;
  } else {
    message.content = { text: $("#send-body").value };
    if (channel === "email") message.content.subject = $("#send-subject").value;
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
$("#send-form").addEventListener("submit", (event) => {
  if (event.submitter?.value === "yes") send(event);
});
