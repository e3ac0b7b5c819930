// Service worker of the beheerders' portal (served as /beheerder-sw.js, scope /beheerder): keeps the
// app shell available offline so the portal opens without a connection and can say so. Network first:
// a fresh page and fresh scripts whenever the server is reachable. The API and the event stream are
// never cached (reports, alerts and feedback must be live, and they carry personal data).

const CACHE = "meldkamer-beheerder-v1";
const SHELL = [
  "/beheerder",
  "/beheerder.webmanifest",
  "/static/css/ui.css",
  "/static/css/beheerder.css",
  "/static/js/common.js",
  "/static/js/beheerder.js",
  "/static/icon.svg",
  "/static/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!(url.pathname === "/beheerder" || url.pathname === "/beheerder.webmanifest" || SHELL.includes(url.pathname))) return;
  event.respondWith(fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  }).catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())));
});
