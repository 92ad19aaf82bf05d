"""Words for similarity: the tokeniser and stop words shared by related and summary."""

import re

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset(
    """about above after again against all also among and any are around because been before
    being below between both but can could did does doing down during each even ever every few
    for from further had has have having her here hers herself him himself his how however into
    its itself just last like made make many may more most much must near new news not now off
    once one only other our ours out over own per said same say says she should since some such
    than that the their theirs them themselves then there these they this those three through
    told too two under until upon very was way were what when where which while who whom whose
    why will with within without would year years yet you your yours also according still
    first time week day today yesterday people""".split()
)
