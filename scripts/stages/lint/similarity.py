"""How strongly a sentence answers a research question: three deterministic, offline methods.

`scorer(method)` gives a function (questions, candidate sentences, every sentence of the paper) ->
one row of scores per question, 0 (nothing shared) to 1. README "Lint" has the measured comparison.

- tfidf: cosine of TF-IDF vectors of stemmed key terms:
  1. terms: lower-case words of 3+ letters, minus English stop words and question words;
  2. stems: Snowball's English (Porter 2) stemmer, so that collection/collected, state/states and
     neutral/neutrality share a stem;
  3. weights: (1 + log tf) * idf, idf = ln((1 + N) / (1 + df)) + 1 over every sentence of the paper;
- bm25: Okapi BM25 (bm25s, k1 = 1.5, b = 0.75) of the same terms, divided by the query's upper bound
  (every query term present, saturated), so that it lies in 0..1;
- wordllama: cosine of static word-embedding averages (WordLlama l2_supercat, 256 dimensions, whose
  weights and tokenizer ship inside the wheel; nothing is downloaded);
- tfidf+wordllama: the mean of tfidf and of wordllama rescaled from its floor to 0..1:
  max(0, (cosine - 0.3) / 0.7) (a sentence of the same paper that shares only its topic with a question
  has a cosine near 0.3; the best of never-answered questions start at 0.25).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path

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


@cache
def snowball():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    """Snowball (Porter 2) stem; cached, since a paper repeats its words and the pure-Python stemmer is slow."""
    return snowball().stemWord(word)


@lru_cache(maxsize=8192)
def terms(text: str) -> tuple[str, ...]:
    """Stems of the words of 3+ letters that are not stop words, in order."""
    words = re.findall(r"[a-z]{3,}", text.lower().replace("’", "'"))
    return tuple(stem_word(word) for word in words if word not in STOP_WORDS)


def idf(documents: Iterable[Sequence[str]]) -> dict[str, float]:
    documents = list(documents)
    frequency = Counter(term for document in documents for term in set(document))
    return {term: math.log((1 + len(documents)) / (1 + df)) + 1 for term, df in frequency.items()}


def vector(document: Sequence[str], weights: dict[str, float], rarest: float) -> dict[str, float]:
    """(1 + ln tf) x idf; a term seen nowhere else is as rare as the rarest term (`rarest`: its idf)."""
    counts = Counter(document)
    return {term: (1 + math.log(n)) * weights.get(term, rarest) for term, n in counts.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(value * b.get(term, 0.0) for term, value in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


Scorer = Callable[[list[str], list[str], list[str]], list[list[float]]]


def tfidf_scores(questions: list[str], candidates: list[str], corpus: list[str]) -> list[list[float]]:
    weights = idf([terms(text) for text in corpus + questions])
    rarest = max(weights.values(), default=1.0)
    vectors = [vector(terms(text), weights, rarest) for text in candidates]
    return [[cosine(vector(terms(q), weights, rarest), v) for v in vectors] for q in questions]


def bm25_scores(questions: list[str], candidates: list[str], corpus: list[str]) -> list[list[float]]:
    import bm25s

    if not candidates:
        return [[] for _ in questions]
    documents = [terms(text) for text in candidates]
    index = bm25s.BM25(k1=1.5, b=0.75)
    index.index([doc or ["\x00"] for doc in documents], show_progress=False)
    rows = []
    for question in questions:
        query = sorted(set(terms(question)) & {term for doc in documents for term in doc})
        if not query:
            rows.append([0.0] * len(candidates))
            continue
        ceiling = sum(float(index.get_scores([term]).max()) for term in query) or 1.0
        rows.append([min(1.0, float(score) / ceiling) for score in index.get_scores(query)])
    return rows


@cache
def wordllama_model():
    """WordLlama from the files inside its wheel (its own loader looks for the tokenizer in the wrong
    folder and then downloads it; the lint never downloads)."""
    import wordllama
    from safetensors import safe_open
    from wordllama import WordLlama
    from wordllama.inference import WordLlamaInference

    package = Path(wordllama.__file__).parent
    tokenizer = WordLlama.load_tokenizer(package / "tokenizers" / "l2_supercat_tokenizer_config.json")
    with safe_open(str(package / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as f:
        embedding = f.get_tensor("embedding.weight")
    return WordLlamaInference(embedding, tokenizer)


def wordllama_scores(questions: list[str], candidates: list[str], corpus: list[str]) -> list[list[float]]:
    if not candidates or not questions:
        return [[] for _ in questions]
    model = wordllama_model()
    matrix = model.embed(questions, norm=True) @ model.embed(candidates, norm=True).T
    return [[max(0.0, float(value)) for value in row] for row in matrix]


WORDLLAMA_FLOOR = 0.3  # the cosine of a same-topic sentence that does not answer (measured on the corpus)


def ensemble_scores(questions: list[str], candidates: list[str], corpus: list[str]) -> list[list[float]]:
    lexical = tfidf_scores(questions, candidates, corpus)
    semantic = wordllama_scores(questions, candidates, corpus)
    return [
        [(a + max(0.0, (b - WORDLLAMA_FLOOR) / (1 - WORDLLAMA_FLOOR))) / 2 for a, b in zip(row_a, row_b, strict=True)]
        for row_a, row_b in zip(lexical, semantic, strict=True)
    ]


METHODS: dict[str, Scorer] = {
    "tfidf": tfidf_scores,
    "bm25": bm25_scores,
    "wordllama": wordllama_scores,
    "tfidf+wordllama": ensemble_scores,
}


def scorer(method: str) -> Scorer:
    return METHODS[method]
