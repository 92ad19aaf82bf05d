"""The publisher's terms a page states: robots directives (meta tag or X-Robots-Tag) and data-nosnippet."""

import re

# Only the directives that limit what is shown; others (noindex, nofollow,
# unavailable_after, ...) are about a search engine's index, not a reader's page.
SHOWN_DIRECTIVES = {"noarchive", "nosnippet"}
MAX_SNIPPET = re.compile(r"max-snippet\s*:\s*(-?\d+)")
# A directive for a named crawler ("googlebot: nosnippet") binds that crawler only.
AGENT_PREFIX = re.compile(r"^\s*([a-z][\w-]*)\s*:\s*(?!\s*-?\d)")
ROBOTS_NAMES = {"robots"}
MAX_HIDDEN = 50


def parse_directives(value, origin):
    """{directive: True, "max_snippet": N, "from": [origin]} of one robots value; {} when it limits nothing."""
    value = (value or "").lower()
    if AGENT_PREFIX.match(value) and not value.strip().startswith("max-snippet"):
        return {}
    terms = {}
    for part in value.split(","):
        name = part.strip()
        if name in SHOWN_DIRECTIVES:
            terms[name] = True
        elif name == "none":  # noindex, nofollow and (for snippets) nosnippet at once
            terms["nosnippet"] = True
    match = MAX_SNIPPET.search(value)
    if match and int(match.group(1)) >= 0:
        limit = int(match.group(1))
        if limit == 0:
            terms["nosnippet"] = True
        else:
            terms["max_snippet"] = limit
    if terms:
        terms["from"] = [origin]
    return terms


def merge_terms(*parts):
    """The strictest of several statements: any no* directive, the smallest max-snippet."""
    merged = {}
    for terms in parts:
        for key, value in terms.items():
            if key == "from":
                merged["from"] = [*merged.get("from", []), *[o for o in value if o not in merged.get("from", [])]]
            elif key == "max_snippet":
                merged[key] = min(value, merged.get(key, value))
            elif key == "hidden":
                merged[key] = [*merged.get(key, []), *value][:MAX_HIDDEN]
            else:
                merged[key] = merged.get(key) or value
    return merged


def read_page_terms(tree):
    """The terms a parsed page states in its markup: robots meta tags and data-nosnippet texts."""
    parts = []
    for meta in tree.iter("meta"):
        if (meta.get("name") or "").strip().lower() in ROBOTS_NAMES:
            parts.append(parse_directives(meta.get("content"), "meta robots"))
    hidden = []
    for element in tree.xpath("//*[@data-nosnippet]")[:MAX_HIDDEN]:
        text = " ".join(element.text_content().split())
        if text:
            hidden.append(text)
    if hidden:
        parts.append({"hidden": hidden, "from": ["data-nosnippet"]})
    return merge_terms(*parts)


def header_terms(value):
    """The terms of an X-Robots-Tag header (requests joins repeated headers with commas)."""
    return parse_directives(value, "X-Robots-Tag")
