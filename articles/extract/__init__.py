"""Pure extraction: one page's bytes in, an Extraction out; no database, no network.

page.py runs trafilatura and our rules on one parsed tree; facts.py reads
what the page says about itself (titles, JSON-LD); scope.py decides which
parts are the article; clean.py drops the chrome that survives.
"""

from .page import Extraction, extract_page

__all__ = ["Extraction", "extract_page"]
