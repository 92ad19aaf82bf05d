"""Remove the page chrome that survives trafilatura: link lists, prompts, repeats."""

import re

from .extract_page_facts import normal

# Share, subscribe and reprint prompts, whole-line only: the same words inside
# a sentence are article text.
PROMPT_LINE = re.compile(
    r"^(advertisement|advertisment|ad|sponsored|story continues below( advertisement)?"
    r"|continue reading( below)?|read more|see also|related( articles| stories| content)?"
    r"|more from .{0,40}|share( this)?( article| story)?|share on \w+|tweet|email|print( article)?"
    r"|order reprints|sign up|subscribe( now)?|thank you|thanks for signing up!?|sorry!?"
    r"|view comments|comments|leave a comment|tags?|topics?|photo|image|video|watch|listen"
    r"|click here.*|follow us.*|log ?in|register|skip (to )?(main )?content|back to top)[.:!]?$",
    re.I,
)
PROMPT_START = re.compile(
    r"^(sign up (for|to)|subscribe to|get the latest .{0,60}(inbox|newsletter)|this copy is for your personal"
    r"|copyright ©|© ?\d{4}|all rights reserved|an error has occurred|there was an error"
    r"|by signing up|you can unsubscribe|we use cookies|keep an eye on your inbox)",
    re.I,
)
URL_LINE = re.compile(r"^(https?://|www\.)\S+$", re.I)
STAMP_LINE = re.compile(r"^[\d\s:./,T+\-Z()]+$")
LIST_LINK_SHARE = 0.5
BLOCK_TAGS = ("p", "head", "list", "quote", "table", "item")


def link_share(element):
    text = "".join(element.itertext())
    letters = len(re.sub(r"\W", "", text))
    if not letters:
        return 0.0
    linked = sum(len(re.sub(r"\W", "", "".join(ref.itertext()))) for ref in element.iter("ref"))
    return linked / letters


def prune_link_lists(body):
    """Drop lists made mostly of links: related stories, tags, menus.

    The share of linked letters says it in any language; a list of points in
    an article has at most a link or two.
    """
    for block in list(body.iter("list")):
        items = block.findall("item")
        if len(items) < 2:
            continue
        if link_share(block) >= LIST_LINK_SHARE:
            block.getparent().remove(block)


def strip_links(body):
    """Turn <ref> back into plain text so the text comes out as without links."""
    for ref in list(body.iter("ref")):
        parent = ref.getparent()
        if parent is None:
            continue
        ref.tag = "hi"
        ref.attrib.clear()
    import lxml.etree

    lxml.etree.strip_tags(body, "hi")


def is_chrome_line(line):
    plain = line.lstrip("-•* ").strip()
    return bool(
        PROMPT_LINE.match(plain)
        or PROMPT_START.match(plain)
        or URL_LINE.match(plain)
        or STAMP_LINE.match(plain)
    )


def clean_lines(lines, title=""):
    """Drop repeated headlines, prompts, bare URLs and time stamps, and repeats."""
    title_key = normal(title)
    kept, seen = [], set()
    for line in lines:
        key = normal(line)
        if not key:
            continue
        if title_key and key == title_key:
            continue
        if is_chrome_line(line):
            continue
        # A line printed twice is a widget or a pull quote; keep the first.
        if key in seen and len(key.split()) <= 25:
            continue
        seen.add(key)
        kept.append(line)
    return kept
