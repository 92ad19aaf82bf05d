"""An article's life after ingestion: claim, fetch, extract, reuse, apply, relate.

run.py drives it (one article, a batch, a whole pass); claim.py holds the
lease; fetching.py is the network part, run ahead in threads; reuse.py
knows a page already extracted; apply.py saves the extraction (or the
feed's own text); relating.py relates a batch's articles together. Pure
extraction lives in articles/extract, relating in articles/related.
"""

from .claim import claim_article
from .run import (
    extract_and_relate_article,
    extract_and_relate_articles,
    extract_article,
    run_pass,
    stop_pipeline_threads,
)

__all__ = [
    "claim_article",
    "extract_and_relate_article",
    "extract_and_relate_articles",
    "extract_article",
    "run_pass",
    "stop_pipeline_threads",
]
