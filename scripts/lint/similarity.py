"""How strongly a paragraph addresses a research question: TF-IDF cosine of stemmed key terms.

Deterministic and documented (README, "Lint"):
1. terms: lower-case words of 3+ letters, minus English stop words and question words;
2. light stemming: strip common suffixes (-ies -> y, -ation -> ate, -ing, -ed, -ity, -al, -s, ...)
   until none fits, then a final -e;
3. weights: (1 + log tf) * idf, idf = ln((1 + N) / (1 + df)) + 1 over every paragraph of the paper;
4. score: cosine of the question's and the paragraph's weight vectors, 0 (nothing shared) to 1.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

STOP_WORDS = frozenset(
    """a about above after again against all also although am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either few for from further
    had has have having he her here hers herself him himself his how however i if in into is it its itself just
    may me might more most must my myself neither no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves then there
    these they this those through thus to too under until up upon very was we were what when where whether
    which while who whom whose why will with within without would yet you your yours yourself yourselves
    one two three many much well even still like use used using via per etc""".split()
)
# (suffix, replacement), tried in order and applied until none fits; then a final "e" goes, so that
# state/states/stated, neutral/neutrality, policy/policies and secure/security share a stem.
SUFFIX_RULES = (
    ("ies", "y"),
    ("ied", "y"),
    ("ational", "ate"),
    ("ization", "ize"),
    ("ation", "ate"),
    ("ness", ""),
    ("ment", ""),
    ("ing", ""),
    ("ity", ""),
    ("ed", ""),
    ("al", ""),
    ("ly", ""),
    ("es", "e"),
    ("s", ""),
)
MIN_STEM = 3


def stem(word: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix, replacement in SUFFIX_RULES:
            if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= MIN_STEM:
                word, changed = word[: -len(suffix)] + replacement, True
                break
    return word[:-1] if word.endswith("e") and len(word) > MIN_STEM else word


def terms(text: str) -> list[str]:
    words = re.findall(r"[a-z]{3,}", text.lower().replace("’", "'"))
    return [stem(word) for word in words if word not in STOP_WORDS]


def idf(documents: Iterable[Sequence[str]]) -> dict[str, float]:
    documents = list(documents)
    frequency = Counter(term for document in documents for term in set(document))
    return {term: math.log((1 + len(documents)) / (1 + df)) + 1 for term, df in frequency.items()}


def vector(document: Sequence[str], weights: dict[str, float]) -> dict[str, float]:
    counts = Counter(document)
    default = max(weights.values(), default=1.0)  # a term seen nowhere else is as rare as the rarest
    return {term: (1 + math.log(n)) * weights.get(term, default) for term, n in counts.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(value * b.get(term, 0.0) for term, value in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0
