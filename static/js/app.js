// Registers the service worker; on the Saved page, asks it to keep every saved
// article for offline reading. No inline script anywhere (strict CSP).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then((registration) => {
    const list = document.querySelector("[data-keep-offline]");
    if (!list || !registration.active) return;
    const urls = Array.from(list.querySelectorAll(".card-title a")).map((link) => link.getAttribute("href"));
    registration.active.postMessage({ type: "keep", urls });
  }).catch(() => {});
}
