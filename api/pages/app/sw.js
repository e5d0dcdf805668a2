// The app shell's service worker. It keeps only the shell's own files (no API answer, so
// nothing personal ever sits in a cache) and serves them cache-first, so the app opens with
// no signal. The cache name carries a digest of the shell: a new server version replaces
// the files at the next start with signal, and old caches are deleted.
"use strict";
const CACHE = "eid-app-__VERSION__";
const SHELL = ["/app/", "/app/app.js", "/app/head.js", "/app/app.css", "/app/manifest.webmanifest",
  "/app/icon.svg", "/app/problems.json"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("eid-app-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The API always goes to the network; the page decides what an unreachable server means.
  if (!url.pathname.startsWith("/app/") && url.pathname !== "/app") return;
  const key = event.request.mode === "navigate" ? "/app/" : url.pathname;
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(key).then((hit) =>
    hit || fetch(event.request))));
});
