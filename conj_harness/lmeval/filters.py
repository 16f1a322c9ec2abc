"""An lm-eval filter that judges all of a task's responses at once (so back-translations are batched)."""

from __future__ import annotations

import json

from lm_eval.api.filter import Filter

from conj_harness.judge.task_judge import judge_responses


class RefusalJudgeFilter(Filter):
    """Replaces each response with its verdict as a JSON string: ``{"label", "stage", "evidence"}``.

    JSON text rather than a dict, so the per-sample logs hold parseable evidence. A failing judge (a classifier
    that cannot load) raises: the task fails with the reason, and no sample is labelled silently.
    """

    def apply(self, resps, docs):
        responses = [r[0] if r else "" for r in resps]
        verdicts = judge_responses(responses, list(docs))  # the judge the documents carry (task metadata)
        return [json.dumps(v, ensure_ascii=False) for v in verdicts]
