"""Features of the classifier judge: sentence embeddings of the answer and question, their product, a few text
statistics, and hashed TF-IDF word and character n-grams of the answer.

Everything here is deterministic and stateless except the IDF weights (`fit_idf`), which are fitted on the
training answers and persisted with the judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

if TYPE_CHECKING:
    from emscope.evaluate.judges.embed import EmbeddingCache

_WORD = re.compile(r"[A-Za-z]+")
_CODE = re.compile(r"```|\bdef |\bimport |\breturn\b|[{};]\s*$|</?\w+>|\bSELECT\b|\bfunction\b", re.M)


class FeatureSettings(BaseModel):
    """How answers are turned into features (persisted with the judge; changing any field changes the judge)."""

    max_seq_length: int = 128
    """Tokens the encoder reads at once (its window; longer texts are truncated, see `long_answers`)."""
    long_answers: str = "head"
    """How answers longer than the window are embedded (see `answer_embeddings`): `head` (the first window only),
    or also the *tail* (the last window of tokens; tail = head for answers that fit) combined with the head as
    `mean` (normalised mean), `max` (elementwise max) or `concat` (the tail embedding appended to the features).
    The tail costs about a third more embedding time; on the model-grouped dev criterion (BENCHMARKS.md, 2026-11-30)
    no tail variant (nor a 256-token window) improved the stacked judge by more than 0.001 AUROC, so the default
    stays `head`."""
    encoder_dtype: str = "auto"
    """auto (bfloat16 on CPUs with native bfloat16, else float32), float32 or bfloat16."""
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    hash_bits: int = 19
    """Each of the word and char n-gram spaces has 2**hash_bits buckets."""
    answer_chars: int = 2000
    """Characters of the answer read by the n-gram features."""


STAT_NAMES = ("log_chars", "log_words", "alpha_share", "upper_share", "digit_share", "punct_share",
              "unique_word_share", "code_marks", "lines", "mean_word_len", "nonascii_share", "repeat_trigram_share")


def text_stats(text: str) -> np.ndarray:
    """A dozen cheap statistics of an answer (length, character mix, repetition, code marks) for coherence."""
    n = max(len(text), 1)
    words = _WORD.findall(text.lower())
    nw = max(len(words), 1)
    trigrams = list(zip(words, words[1:], words[2:]))
    repeat = 1.0 - len(set(trigrams)) / len(trigrams) if trigrams else 0.0
    return np.array([
        np.log1p(len(text)), np.log1p(len(words)),
        sum(c.isalpha() for c in text) / n, sum(c.isupper() for c in text) / n,
        sum(c.isdigit() for c in text) / n, sum(c in "{}[]()<>=;:#*_/\\|`~^" for c in text) / n,
        len(set(words)) / nw, np.log1p(len(_CODE.findall(text))), np.log1p(text.count("\n")),
        sum(len(w) for w in words) / nw, sum(ord(c) > 127 for c in text) / n, repeat,
    ], dtype=np.float32)


LONG_ANSWERS = ("head", "mean", "max", "concat")


def answer_embeddings(answers: list[str], s: FeatureSettings, cache: EmbeddingCache,
                      on_done: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(answer embedding [n, 384], extra [n, 384] or None) under `s.long_answers`: the head window's embedding,
    or for answers longer than the window also the embedding of their last window (cached like any text), combined
    with the head (`mean`, `max`) or returned as the extra block (`concat`). Fitting and scoring both use this."""
    from emscope.evaluate.judges.embed import tail_texts

    if s.long_answers not in LONG_ANSWERS:
        raise ValueError(f"long_answers {s.long_answers!r}: expected one of {', '.join(LONG_ANSWERS)}")
    head = cache.embed(answers, s.max_seq_length, on_done=on_done, dtype=s.encoder_dtype)
    if s.long_answers == "head":
        return head, None
    tails = tail_texts(answers, s.max_seq_length)
    long = [i for i, t in enumerate(tails) if t is not None]
    tail = head.copy()
    if long:
        tail[long] = cache.embed([tails[i] for i in long], s.max_seq_length, on_done=on_done, dtype=s.encoder_dtype)
    if s.long_answers == "concat":
        return head, tail
    if s.long_answers == "max":
        return np.maximum(head, tail), None
    mean = head + tail
    return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(np.float32), None


def dense_features(answer_emb: np.ndarray, question_emb: np.ndarray, stats: np.ndarray,
                   extra: np.ndarray | None = None) -> np.ndarray:
    """[answer embedding, question embedding, their elementwise product (scaled), text statistics, extra block
    (the tail embedding under `long_answers="concat"`)]."""
    blocks = [answer_emb, question_emb, answer_emb * question_emb * 16.0, stats]
    return np.hstack(blocks + ([extra] if extra is not None else [])).astype(np.float32)


def _hashers(s: FeatureSettings):
    from sklearn.feature_extraction.text import HashingVectorizer

    common = dict(n_features=2 ** s.hash_bits, alternate_sign=False, norm=None, lowercase=True,
                  dtype=np.float32)
    return (HashingVectorizer(analyzer="word", ngram_range=tuple(s.word_ngrams), **common),
            HashingVectorizer(analyzer="char_wb", ngram_range=tuple(s.char_ngrams), **common))


def ngram_counts(answers: list[str], s: FeatureSettings):
    """Sparse hashed n-gram counts of the answers (CSR, word block then char block)."""
    from scipy import sparse

    texts = [a[: s.answer_chars] for a in answers]
    word, char = _hashers(s)
    return sparse.hstack([word.transform(texts), char.transform(texts)], format="csr", dtype=np.float32)


def fit_idf(counts) -> np.ndarray:
    """Smoothed IDF per hashed bucket from training counts: log((1 + n) / (1 + df)) + 1 (as scikit-learn)."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def tfidf(counts, idf: np.ndarray, hash_bits: int):
    """Sublinear TF-IDF, each of the word and char blocks L2-normalised and scaled by 1/sqrt(2)."""
    from scipy import sparse

    x = counts.copy().astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    x = x @ sparse.diags(idf) if x.shape[1] else x
    x = sparse.csr_matrix(x, dtype=np.float32)
    half = 2 ** hash_bits
    block = (x.indices >= half).astype(np.int64)
    sq = x.data.astype(np.float64) ** 2
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    norms = np.zeros((x.shape[0], 2))
    np.add.at(norms, (rows, block), sq)
    norms = np.sqrt(norms) * np.sqrt(2.0)
    norms[norms == 0] = 1.0
    x.data = (x.data / norms[rows, block]).astype(np.float32)
    return x
