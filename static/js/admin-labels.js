// select2's search box (the tags autocomplete) has no label: name it after its
// field, for screen readers. select2 redraws the box on every change.
document.addEventListener("DOMContentLoaded", () => {
  const name = () => {
    for (const input of document.querySelectorAll(".select2-search__field:not([aria-label])")) {
      const label = input.closest(".form-row")?.querySelector("label");
      input.setAttribute("aria-label", `Search ${label ? label.textContent.replace(/:$/, "").toLowerCase() : "choices"}`);
    }
  };
  new MutationObserver(name).observe(document.body, { childList: true, subtree: true });
  name();
});
