"""Bytes -> text: the declared charset when it decodes cleanly, else detection (charset-normalizer)."""

import codecs
import re

from charset_normalizer import from_bytes

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
XML_ENCODING_TEXT = re.compile(r"^(\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'])([A-Za-z0-9._:-]{1,40})")
META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]{1,40})", re.I)
# Detection reads a sample: enough text to tell the charsets apart.
SAMPLE_BYTES = 256 * 1024
# The web's own default for undeclared pages (the HTML standard's, for most
# locales); chosen whenever detection finds it plausible, since detection
# on a short Latin text often prefers a Baltic or Central European cousin.
WEB_DEFAULT = "cp1252"


def bom_encoding(content):
    for bom, name in BOMS:
        if content.startswith(bom):
            return name
    return None


def decode_document(content: bytes, declared=()):
    """The text of `content`: by its BOM, else the first `declared` charset
    that decodes it cleanly, else UTF-8, else the detected charset."""
    bom = bom_encoding(content)
    if bom:
        return content.decode(bom, "replace")
    for name in [*declared, "utf-8"]:
        try:
            return content.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return content.decode(detect_encoding(content), "replace")


def detect_encoding(content):
    candidates = [match.encoding for match in from_bytes(content[:SAMPLE_BYTES])]
    if not candidates or WEB_DEFAULT in candidates:
        return WEB_DEFAULT
    return candidates[0]


def decode_feed(content: bytes):
    """A feed's text, as its XML declaration says when that decodes cleanly."""
    match = XML_ENCODING.match(content[:1024])
    return decode_document(content, [match.group(1).decode("ascii")] if match else [])


def feed_as_utf8(content: bytes):
    """The feed re-encoded as UTF-8, its XML declaration saying so; parsers
    then read the text decode_feed found, whatever the file claimed."""
    text = XML_ENCODING_TEXT.sub(r"\1utf-8", decode_feed(content), count=1)
    return text.encode("utf-8")


def decode_page(content: bytes, charset=""):
    """A page's text: by the HTTP charset, then its <meta> charset, when they decode cleanly."""
    declared = [charset] if charset else []
    match = META_CHARSET.search(content[:4096])
    if match:
        declared.append(match.group(1).decode("ascii"))
    return decode_document(content, declared)
