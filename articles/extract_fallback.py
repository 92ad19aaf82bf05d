"""trafilatura's fallback extractors, run only when its own extraction came up short.

trafilatura compares every extraction with readability (and sometimes justext)
and keeps whichever its heuristics prefer. On the two benchmark sets that
comparison changed 7 pages of 228: the five whose own text was empty or under
900 characters were rescued; the two with full-length text (2,600 and 5,000
characters) were made worse (on one, photo credits and tag lists crept in).
It also cost 3.6 ms a page, a tenth of the whole extraction. So a full-length
extraction is kept as it is, and the comparison runs only below LONG_ENOUGH
characters (a quarter of the pages).
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
        raise RuntimeError("trafilatura.core.compare_extraction changed: review extract_fallback.py")
    core.compare_extraction = compare_when_short
