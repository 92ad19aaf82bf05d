"""OPML in and out: the usual way feed readers exchange source lists."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .ingest import ENTITY_DECLARATION
from .models import Category, Source
from .sanitize import plain_text, safe_url


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
    if ENTITY_DECLARATION.search(content[:65536]):
        raise OPMLError("The OPML file declares XML entities; refused.")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise OPMLError(f"Not a valid OPML file: {exc}") from exc
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise OPMLError("Not an OPML file (no <opml><body>).")
    outlines = []

    def walk(element, parent_category):
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
                walk(node, label or parent_category)

    walk(body, "")
    return outlines


def unique_slug(name, model=Source):
    base = slugify(name)[:180] or "source"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def category_named(name):
    if not name:
        return None
    category = Category.objects.filter(name__iexact=name).first()
    if category is None:
        category = Category.objects.create(name=name[:100], slug=unique_slug(name, Category))
    return category


@transaction.atomic
def import_sources(outlines, update=False):
    """Create a Source per new feed URL (dedup on feed_url); returns (created, skipped)."""
    created = skipped = 0
    for outline in outlines:
        existing = Source.objects.filter(feed_url=outline.feed_url).first()
        if existing is not None:
            if update:
                existing.name = outline.name or existing.name
                existing.site_url = outline.site_url or existing.site_url
                existing.category = category_named(outline.category) or existing.category
                existing.save()
            skipped += 1
            continue
        name = outline.name or outline.feed_url
        Source.objects.create(
            name=name,
            slug=unique_slug(name),
            feed_url=outline.feed_url,
            site_url=outline.site_url,
            category=category_named(outline.category),
            language=outline.language,
            next_fetch_at=timezone.now(),
        )
        created += 1
    return created, skipped


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
