"""The page's own topics: article:tag, keywords, news_keywords and JSON-LD keywords."""

import json
import re
import unicodedata

from ..sanitize import plain_text

META_NAMES = ("article:tag", "keywords", "news_keywords")
MIN_CHARS = 2
# A longer "keyword" is a sentence or a stuffed list, not a topic.
MAX_CHARS = 40
MAX_TAGS = 8


def read_page_tags(tree):
    """Topic names from the page's metadata, normalised, in the order the page gives them."""
    if tree is None:
        return []
    values = []
    for name in META_NAMES:
        values += tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        values += json_ld_keywords(script.text_content())
    return normalise_tags(values)


def json_ld_keywords(source):
    try:
        data = json.loads(source, strict=False)
    except ValueError:
        return []
    found = []
    nodes = data if isinstance(data, list) else [data]
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, list):
            nodes.extend(node)
        elif isinstance(node, dict):
            keywords = node.get("keywords")
            if isinstance(keywords, str):
                found.append(keywords)
            elif isinstance(keywords, list):
                found += [keyword for keyword in keywords if isinstance(keyword, str)]
            nodes += [node[key] for key in ("@graph", "mainEntity") if key in node]
    return found


def normalise_tags(values, exclude=()):
    """Names split on commas, whitespace collapsed, deduplicated by case, capped.

    A name written all in lower case gets a capital: "trams" and "Trams" are
    one topic, shown one way. exclude: names never to return (the category).
    """
    seen = {tag_key(name) for name in exclude}
    names = []
    for value in values:
        for name in re.split(r"[,;]", str(value)):
            name = " ".join(plain_text(name, 200).split()).strip(" #")
            if not MIN_CHARS <= len(name) <= MAX_CHARS or tag_key(name) in seen:
                continue
            if name.islower():
                name = name[0].upper() + name[1:]
            seen.add(tag_key(name))
            names.append(name)
            if len(names) == MAX_TAGS:
                return names
    return names


def tag_key(name):
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())
