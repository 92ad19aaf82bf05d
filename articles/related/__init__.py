"""Related links and stories: an inverted index of each article's strongest terms,
exact cosine on the best hundred candidates.

vectors.py is the pure maths; index.py all of relating's dialect-specific SQL
(frequencies, postings, candidates); copies.py finds syndicated copies;
stories.py joins articles of one event; links.py ranks and stores the links;
relate.py runs them for one article, batch.py for a task's batch together.
"""

from .batch import relate_articles
from .relate import relate_article
from .stories import refresh_stories

__all__ = ["refresh_stories", "relate_article", "relate_articles"]
