// The web push service worker (a site registers /ui/sw.js and subscribes with the key
// `plexus webpush public-key` prints). It shows each push as a notification and reports
// what became of it to POST /t/p/{token}, the token signed for that message and carried
// in the push payload ({"message_id", "body", "token"}): `delivered` when the push
// arrives and is shown, `click` when the notification is clicked (the server records
// `open` with it), `dismissed` when it is closed unclicked. The server counts each once,
// so a report sent twice (a retry, a second click) changes nothing.

"use strict";

const TITLE = "Plexus";

function report(token, event) {
  if (!token) {
    return Promise.resolve();
  }
  const url = new URL(`/t/p/${encodeURIComponent(token)}`, self.location.origin);
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ event }),
    credentials: "omit",
  }).catch(() => undefined); // offline: the report is lost, the notification still shows
}

function readPayload(data) {
  if (!data) {
    return {};
  }
  try {
    return data.json();
  } catch (error) {
    return { body: data.text() };
  }
}

self.addEventListener("push", (event) => {
  const payload = readPayload(event.data);
  const token = typeof payload.token === "string" ? payload.token : "";
  const shown = self.registration.showNotification(payload.title || TITLE, {
    body: typeof payload.body === "string" ? payload.body : "",
    tag: payload.message_id || undefined,
    data: { token, url: typeof payload.url === "string" ? payload.url : "" },
  });
  event.waitUntil(shown.then(() => report(token, "delivered")));
});

self.addEventListener("notificationclick", (event) => {
  const { token, url } = event.notification.data || {};
  event.notification.close(); // closing it here raises no notificationclose
  const work = [report(token, "click")];
  if (url && /^https?:/.test(url)) {
    work.push(self.clients.openWindow(url));
  }
  event.waitUntil(Promise.all(work));
});

self.addEventListener("notificationclose", (event) => {
  const { token } = event.notification.data || {};
  event.waitUntil(report(token, "dismissed"));
});

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
