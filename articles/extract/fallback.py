"""trafilatura's fallback extractors, run only when its own extraction came up short.

trafilatura compares every extraction with readability (and sometimes justext)
and keeps whichever its heuristics prefer. On the benchmark sets that rescued
every short extraction and only made full-length ones worse (photo credits and
tag lists crept in), at a tenth of the extraction's cost (bench/NOTES-extraction.md).
So a full-length extraction is kept as it is, and the comparison runs only
below LONG_ENOUGH characters.

trafilatura has no option for this (its `fast` mode also changes metadata and
recovery), hence the one private hook of the package: core's module global
compare_extraction is routed through compare_when_short. tests/test_extract_fallback.py
pins what it relies on; README's trade-offs section names it.
"""

from trafilatura import core
from trafilatura.external import compare_extraction

LONG_ENOUGH = 2000  # characters, about 330 words: longer than a news brief


def compare_when_short(cleaned_tree, raw_tree, body, text, options):
    if len(text) >= LONG_ENOUGH:
        return body, text
    return compare_extraction(cleaned_tree, raw_tree, body, text, options)


def install():
    """Route trafilatura's comparison step through compare_when_short.

    trafilatura.core calls compare_extraction through its module globals; if
    an upgrade renames it, fail at start-up rather than silently run it always.
    """
    if core.compare_extraction is compare_when_short:
        return
    if core.compare_extraction is not compare_extraction:
        raise RuntimeError("trafilatura.core.compare_extraction changed: review articles/extract/fallback.py")
    core.compare_extraction = compare_when_short
