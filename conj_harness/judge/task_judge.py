"""Judging one safety task's responses: the task's judge over all of them at once.

The judge comes from the task's metadata (``judge``, ``judge_model``, ``judge_translator``; ``conj-eval --metadata``
or ``conj-harness compare --judge``), which the task's loader copies into every document (``doc["judge"]``), so the
lm-eval filter - which sees documents, not metadata - judges with it, and every sample records it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from conj_harness.judge.registry import JudgeSpec, run_judge


def spec_of(docs: Sequence[dict[str, Any]]) -> JudgeSpec:
    """The judge the task's documents carry (all carry the same); the environment's or ``rules`` if none."""
    carried = docs[0].get("judge") if docs else None
    if isinstance(carried, str) and carried:
        return JudgeSpec(**json.loads(carried))
    return JudgeSpec.from_metadata(None)


def judge_responses(responses: list[str], docs: list[dict]) -> list[dict]:
    """Verdicts (label, stage, evidence with the judge's identity) for a task's responses."""
    spec = spec_of(docs)
    verdicts = run_judge(spec, responses, [d.get("english") for d in docs], [d.get("lang") for d in docs],
                         sent=[d.get("instruction") for d in docs])
    return [v.to_dict() for v in verdicts]
