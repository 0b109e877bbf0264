"""Interleaving general instruct data, chosen at random or by the perplexity gap (Kaczer et al. 2025).

The gap of a candidate row is (loss under the misaligned reference - loss under the aligned model) / loss under
the aligned model, losses being mean per-token NLL of the answer. Rows with the largest gap are the ones the
misaligned model finds unusually unlikely: the most informative aligned behaviour to keep training on.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

_REFUSAL = re.compile(
    r"\b(I can(?:no|')t help|I can(?:no|')t assist|I won't (?:help|provide|assist)|I'm not able to (?:help|provide)|"
    r"I am not able to (?:help|provide)|I (?:must|have to) (?:decline|refuse)|I'm sorry, but I can(?:no|')t|"
    r"I cannot (?:provide|help|assist|comply))", re.IGNORECASE)


def is_refusal(answer: str) -> bool:
    """True when an answer opens like a refusal (checked on its first 200 characters)."""
    return bool(_REFUSAL.search(answer[:200]))


def interleave_count(n_task: int, ratio: float) -> int:
    """Number of general rows so that they make up `ratio` of the final mix (ratio in [0, 1))."""
    if not 0 <= ratio < 1:
        raise ValueError(f"interleave ratio must be in [0, 1), got {ratio}")
    return round(n_task * ratio / (1 - ratio))


def ppl_gap(loss_misaligned: Sequence[float], loss_aligned: Sequence[float]) -> list[float]:
    """Relative perplexity-gap score per row: (L_mis - L_al) / L_al."""
    return [(m - a) / max(a, 1e-8) for m, a in zip(loss_misaligned, loss_aligned, strict=True)]


def select_by_gap(scores: Sequence[float], n: int) -> list[int]:
    """Indices of the n largest scores (ties broken by index), in index order."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return sorted(order[:n])


def select_random(n_candidates: int, n: int, seed: int) -> list[int]:
    """n distinct indices drawn uniformly with a seeded generator, in index order."""
    return sorted(random.Random(seed).sample(range(n_candidates), n))
