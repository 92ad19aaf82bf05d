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

// "Install Lede" at the end of an article: a button where the browser offers
// to install (beforeinstallprompt), the iOS "Add to Home Screen" hint on iOS,
// nothing once installed. No pop-up: the reader asks or it stays a block.
(() => {
  const block = document.querySelector("[data-install]");
  if (!block) return;
  const installed = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  if (installed) return;
  const button = block.querySelector("[data-install-button]");
  let offer = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    offer = event;
    button.hidden = false;
    block.hidden = false;
  });
  button.addEventListener("click", () => {
    if (!offer) return;
    offer.prompt();
    offer.userChoice.finally(() => { offer = null; block.hidden = true; });
  });
  window.addEventListener("appinstalled", () => { block.hidden = true; });
  const ios = /iphone|ipad|ipod/i.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  if (ios) {
    block.querySelector("[data-install-ios]").hidden = false;
    block.hidden = false;
  }
})();

// An image that fails to load (a stored file gone) shows a neutral
// placeholder, never the browser's broken-image icon.
document.addEventListener("error", (event) => {
  const image = event.target;
  if (!(image instanceof HTMLImageElement) || image.dataset.failed) return;
  image.dataset.failed = "1";
  image.alt = "";
  image.classList.add("image-placeholder");
  image.src = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
}, true);
