// Lede's service worker: installable app, and saved articles readable offline.
// Pages are fetched from the network first; a copy of every article page
// and of the Saved page is kept, and served when the network is gone.
const CACHE = "lede-pages-v1";
const OFFLINE_URL = "/offline/";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.add(OFFLINE_URL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) =>
      Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key)))
    ).then(() => self.clients.claim())
  );
});

function worthKeeping(url) {
  return url.origin === self.location.origin &&
    (url.pathname.startsWith("/articles/") || url.pathname === "/saved/" ||
     url.pathname.startsWith("/static/"));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && worthKeeping(url)) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() =>
        caches.match(request).then((cached) =>
          cached || (request.mode === "navigate" ? caches.match(OFFLINE_URL) : Response.error())
        )
      )
  );
});

// The Saved page sends its article URLs so they are readable offline even
// before they are opened.
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "keep" && Array.isArray(event.data.urls)) {
    const urls = event.data.urls.filter((href) => new URL(href, self.location.origin).origin === self.location.origin);
    event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(urls)));
  }
});
