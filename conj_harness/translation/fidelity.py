"""How faithful a conjugate is: round-trip chrF (translate to the conjugate and back, score against the source).

A task conjugated through a poor translation measures the translator, not the model; a figure per task lets a
researcher see that, and ``--min-chrf`` refuse such a task. The score comes from the ``evaluate`` metric module
shipped in this package (:mod:`conj_harness.translation.roundtrip_chrf`, loaded by path, so offline): sacrebleu's
corpus chrF, 0-100. For ciphers the round trip is the rule and its inverse (lossy where the inverse guesses).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

METRIC_DIR = Path(__file__).resolve().parent / "roundtrip_chrf"


@cache
def _metric() -> Any:
    import evaluate

    return evaluate.load(str(METRIC_DIR))


def chrf(predictions: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    """Corpus chrF of ``predictions`` against ``references`` (plus per-text mean and count below 50)."""
    pairs = [(p, r) for p, r in zip(predictions, references) if r.strip()]
    if not pairs:
        return {"score": None, "sentence_mean": None, "below": 0, "n": 0}
    result = _metric().compute(predictions=[p for p, _ in pairs], references=[r for _, r in pairs])
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}


def roundtrip_chrf(sources: Sequence[str], conjugated: Sequence[str], inverse) -> dict[str, Any]:
    """chrF of ``inverse(conjugated)`` against ``sources`` (``conjugated[i]`` is the conjugate of ``sources[i]``)."""
    back = inverse(list(conjugated))
    return chrf(back, list(sources))
