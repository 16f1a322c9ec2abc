"""Judging one safety task's responses: the configured judge over all of them at once.

``CONJ_JUDGE_TRANSLATOR`` (``none``, the default, or a translator backend: ``google``, ``hf``, ``table``) enables
stage-2 back-translation; ``CONJ_JUDGE_MODEL`` (a local model path) enables the stage-3 model judge. Called by
the lm-eval filter of the safety families with each document's language and English request.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def _translate_fn(backend: str) -> Callable[..., Any] | None:
    if backend in ("", "none"):
        return None
    from conj_harness.translation.layer import get_translate

    return get_translate(backend)


def _model_judge(path: str) -> Any:
    if not path:
        return None
    from conj_harness.judge.refusal import ModelJudge

    return ModelJudge(path)


def judge_responses(responses: list[str], docs: list[dict], translator: str | None = None,
                    model: str | None = None) -> list[dict]:
    """Verdicts (label, stage, evidence) for a task's responses; used by the lm-eval filter."""
    from conj_harness.judge.refusal import judge_many

    translator = translator if translator is not None else os.environ.get("CONJ_JUDGE_TRANSLATOR", "none")
    model = model if model is not None else os.environ.get("CONJ_JUDGE_MODEL", "")
    verdicts = judge_many(
        responses, [d["lang"] for d in docs], prompts=[d["english"] for d in docs],
        translate=_translate_fn(translator), model_judge=_model_judge(model),
    )
    return [v.to_dict() for v in verdicts]


