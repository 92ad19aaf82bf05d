"""Helpers for the browser tests: pages at a phone's and a desktop's size, light
and dark, checked by axe-core and kept as screenshots for a person to look at."""

import contextlib
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

# Gitignored; CI keeps the folder as the run's artefacts.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
DESKTOP, PHONE = (1366, 900), (390, 844)
SIZES = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")
AXE = Axe()


@contextlib.contextmanager
def open_page(browser, size=DESKTOP, scheme="light"):
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, color_scheme=scheme
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page, base_url, username, password, admin=False):
    page.goto(base_url + ("/admin/login/" if admin else "/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in" if admin else "Sign in").click()
    page.wait_for_load_state()


def shoot(page, name):
    """The page at both sizes, light and dark: var/screenshots/NAME-SIZE-SCHEME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            page.evaluate("Promise.all(document.getAnimations().map(a => a.finished))")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}-{scheme}.png"))
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme="light")


def assert_accessible(page, exclude=()):
    """axe-core finds nothing on the page (but in the `exclude` selectors), in light and in dark."""
    reports = []
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        # Colours change through CSS transitions (the admin's links): read them settled.
        page.evaluate("Promise.all(document.getAnimations().map(a => a.finished))")
        results = AXE.run(page, context={"exclude": [[s] for s in exclude]} if exclude else None)
        if results.violations_count:
            reports.append(f"{scheme}, {page.url}:\n{results.generate_report()}")
    page.emulate_media(color_scheme="light")
    assert not reports, "\n".join(reports)


# Every visible control whose middle, once scrolled to, is another element's:
# a click there would go elsewhere (a card-wide link that overflows its card,
# a header drawn over a form). Controls a page hides from people (a skip
# link until focused, a spam trap: off-screen, 1 px or aria-hidden) are left out.
COVERED_CONTROLS = """() => {
  const found = [];
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const control of document.querySelectorAll(controls)) {
    // Not drawn: display none, visibility hidden, or inside a closed <details>.
    if (!control.checkVisibility({visibilityProperty: true})) continue;
    if (control.closest('[aria-hidden="true"], [inert]')) continue;
    control.scrollIntoView({block: 'center', inline: 'center'});
    const box = control.getBoundingClientRect();
    const x = box.x + box.width / 2, y = box.y + box.height / 2;
    if (box.width <= 1 || box.height <= 1 || x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const top = document.elementFromPoint(x, y);
    if (top && !control.contains(top) && !top.contains(control)) {
      found.push(control.outerHTML.slice(0, 100) + ' under ' + top.outerHTML.slice(0, 100));
    }
  }
  return found;
}"""


def covered_controls(page):
    """COVERED_CONTROLS at the page's size, then at the other size."""
    found = []
    viewport = page.viewport_size
    sizes = [(viewport["width"], viewport["height"])]
    sizes += [size for size in SIZES.values() if size[0] != viewport["width"]]
    for width, height in sizes:
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width}px: {control}" for control in page.evaluate(COVERED_CONTROLS)]
    page.set_viewport_size(viewport)
    return found
