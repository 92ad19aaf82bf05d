"""OPML in and out: the usual way feed readers exchange source lists."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.db import transaction
from django.utils import timezone

from .models import Source, SourceImport
from .page_cache import bump_content_version
from .sanitize import plain_text, safe_url
from .sources import categories_named, create_sources


class OPMLError(Exception):
    pass


@dataclass
class Outline:
    feed_url: str
    name: str
    site_url: str = ""
    category: str = ""
    language: str = ""


def parse_opml(content: bytes):
    """Every feed outline, with the category from its attribute or parent outline."""
    try:
        # No DTD at all: OPML needs none, and entities are the known attack.
        root = fromstring(content, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise OPMLError(f"The OPML file declares a DTD or entities; refused ({exc}).") from exc
    except ET.ParseError as exc:
        raise OPMLError(f"Not a valid OPML file: {exc}") from exc
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise OPMLError("Not an OPML file (no <opml><body>).")
    outlines = []
    # Depth first, in document order, without recursion: nesting is the file's choice.
    stack = [(body, "")]
    while stack:
        element, parent_category = stack.pop()
        children = []
        for node in element.findall("outline"):
            feed_url = safe_url(node.get("xmlUrl", ""))
            label = plain_text(node.get("title") or node.get("text") or "", 200)
            if feed_url:
                outlines.append(
                    Outline(
                        feed_url=feed_url,
                        name=label,
                        site_url=safe_url(node.get("htmlUrl", "")),
                        category=plain_text(node.get("category", ""), 100).strip("/")
                        or parent_category,
                        language=plain_text(node.get("language", ""), 12),
                    )
                )
            else:
                children.append((node, label or parent_category))
        stack.extend(reversed(children))
    return outlines


# A large import falls due over time, not all at once: the first
# IMPORT_AT_ONCE at once, then 30 first fetches a minute.
IMPORT_AT_ONCE = 50
IMPORT_DUE_EVERY = timedelta(seconds=2)


@transaction.atomic
def import_outlines(outlines, update=False, due_every=IMPORT_DUE_EVERY, start=0):
    """A Source for each new feed URL; returns (created, skipped).

    With `update`, sources already here get the file's name, site and category.
    `start` sources of the same file were created before (their first fetches
    come first).
    """
    categories = categories_named([outline.category for outline in outlines])
    existing = {
        source.feed_url: source
        for source in Source.objects.filter(feed_url__in=[o.feed_url for o in outlines])
    }
    new, changed = [], {}
    for outline in outlines:
        category = categories.get(outline.category.strip()[:100].lower())
        source = existing.get(outline.feed_url)
        if source is None:
            new.append(
                Source(
                    name=outline.name,
                    feed_url=outline.feed_url,
                    site_url=outline.site_url,
                    category=category,
                    language=outline.language,
                )
            )
        elif update:
            source.name = outline.name or source.name
            source.site_url = outline.site_url or source.site_url
            source.category = category or source.category
            changed[source.pk] = source
    created = create_sources(new, due_every=due_every, at_once=IMPORT_AT_ONCE, start=start)
    if changed:
        Source.objects.bulk_update(changed.values(), ["name", "site_url", "category"])
        transaction.on_commit(bump_content_version)  # names and categories the menus show
    return len(created), len(outlines) - len(created)


# Progress is saved after each chunk: one transaction and a few statements each.
IMPORT_CHUNK = 1000


def run_source_import(source_import):
    """Import a SourceImport's file chunk by chunk, saving its counts after each."""
    save_import(source_import, status=SourceImport.Status.RUNNING, error="")
    try:
        outlines = parse_opml(bytes(source_import.content))
    except OPMLError as exc:
        save_import(source_import, status=SourceImport.Status.FAILED, error=str(exc),
                    finished_at=timezone.now())
        return source_import
    save_import(source_import, outlines=len(outlines), handled=0, created=0, skipped=0)
    for start in range(0, len(outlines), IMPORT_CHUNK):
        chunk = outlines[start : start + IMPORT_CHUNK]
        created, skipped = import_outlines(
            chunk, update=source_import.update_existing, start=source_import.created
        )
        save_import(
            source_import, handled=start + len(chunk),
            created=source_import.created + created, skipped=source_import.skipped + skipped,
        )
    save_import(source_import, status=SourceImport.Status.DONE, content=b"",
                finished_at=timezone.now())
    return source_import


def save_import(source_import, **fields):
    for name, value in fields.items():
        setattr(source_import, name, value)
    source_import.save(update_fields=list(fields))


def export_opml(sources, title="Lede sources"):
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = timezone.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {
            "type": "rss",
            "text": source.name,
            "title": source.name,
            "xmlUrl": source.feed_url,
        }
        if source.site_url:
            attributes["htmlUrl"] = source.site_url
        if source.category_id:
            attributes["category"] = source.category.name
        if source.language:
            attributes["language"] = source.language
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
