// Values laid out field by field (a <dl>'s terms and descriptions): nested objects as
// nested lists, arrays item by item, never as raw JSON.

import { h, text } from "./dom.js";

const label = (key) => (/^[a-z0-9_]+$/.test(key)
  ? key[0].toUpperCase() + key.slice(1).replaceAll("_", " ") : key);

function value(shown) {
  if (Array.isArray(shown)) {
    return shown.length ? h("ul", { class: "plain" }, shown.map((one) => h("li", {}, value(one))))
      : "—";
  }
  if (shown && typeof shown === "object") {
    return h("dl", { class: "fields nested" }, fieldList(Object.entries(shown)));
  }
  return text(shown);
}

// [[key, value], ...] as <dt>/<dd> pairs.
export function fieldList(rows) {
  return rows.map(([key, shown]) => [h("dt", {}, label(key)), h("dd", {}, value(shown))]);
}
