// Building the page out of DOM nodes. Data only ever goes in as text (text nodes,
// textContent, attribute values): contacts are hostile input, so nothing here ever
// parses a string as HTML.

export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(node, visible) {
  node.hidden = !visible;
  return node;
}

let noticeTimer;
export function notify(text, kind = "ok") {
  const notice = $("#notice");
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
}

// Runs an action of the page; a failure is shown, never swallowed.
export async function attempt(action, done) {
  try {
    const result = await action();
    if (done) notify(done);
    return result;
  } catch (error) {
    notify(error.message, "error");
    return undefined;
  }
}

function modal(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

export function confirmAction(title, text, button = "Confirm") {
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-yes").textContent = button;
  return modal($("#confirm"));
}

// Asks for one value; `text` says what will happen, `button` names the action.
export async function askFor(title, label, value = "", { text = "", button = "Save" } = {}) {
  $("#ask-title").textContent = title;
  $("#ask-text").textContent = text;
  $("#ask-text").hidden = !text;
  $("#ask-label").textContent = label;
  $("#ask-yes").textContent = button;
  const input = $("#ask-value");
  input.value = value;
  return (await modal($("#ask"))) ? input.value.trim() : null;
}

export function openModal(dialog) {
  return modal(dialog);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export function when(value) {
  return value ? timeFormat.format(new Date(value)) : "—";
}

export function text(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

// Tab and Shift+Tab go round a modal dialog's controls: past the last one the browser
// would take the focus out of the page (the page behind the dialog is inert).
const FOCUSABLE = "button, [href], input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";

function keepFocus(event) {
  if (event.key !== "Tab") return;
  const dialog = event.currentTarget;
  const controls = [...dialog.querySelectorAll(FOCUSABLE)]
    .filter((node) => !node.disabled && node.offsetParent !== null);
  if (!controls.length) return;
  const [first, last] = [controls[0], controls.at(-1)];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("keydown", keepFocus);
}
