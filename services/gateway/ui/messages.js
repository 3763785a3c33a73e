// Messages as the feed names them: the subject, else the template's name, else the
// channel's first words. Each message and the templates are read once a page load.

import { api } from "./api.js";

const messages = new Map();
let templates = null;

export function messageOf(id) {
  if (!messages.has(id)) {
    messages.set(id, api.get(`/v1/messages/${encodeURIComponent(id)}`).catch(() => null));
  }
  return messages.get(id);
}

function templateNames() {
  // A key without messages:send cannot list templates: the name falls back to the text.
  templates ??= api.get("/v1/templates", { limit: 200 })
    .then((page) => new Map(page.data.map((template) => [template.id, template.name])))
    .catch(() => new Map());
  return templates;
}

export async function messageName(id, known) {
  const message = known || await messageOf(id);
  if (!message) return "(message not found)";
  const content = message.content || {};
  if (content.subject) return content.subject;
  if (message.template_id) {
    const name = (await templateNames()).get(message.template_id);
    if (name) return `template ${name}`;
  }
  const words = content.text || content.body || "";
  return words.length > 60 ? `${words.slice(0, 60)}…` : words || `message ${message.id}`;
}
