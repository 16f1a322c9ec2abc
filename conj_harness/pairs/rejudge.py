"""Re-judging saved generations with another judge: no model is loaded to generate.

A safety task's samples keep the raw generation (``resps``) next to the verdict (``filtered_resps``), so another
judge can relabel them: :func:`rejudge_samples` rewrites one task's samples (verdict, the three rates, the judge
each document carries) and :func:`rejudge_results` its aggregated metrics, exactly as lm-eval would have written
them. :func:`rejudge_store` does this for every finished safety unit of a compare folder (and records the new
judge in each unit's identity); ``conj-harness rejudge`` also takes a plain lm-eval ``--output_path`` folder,
whose relabelled copy goes to a new folder (the original is never modified).
"""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

from conj_harness.families import registry as families
from conj_harness.families import safety
from conj_harness.judge.registry import JudgeSpec, run_judge
from conj_harness.pairs.spec import ROLES
from conj_harness.pairs.store import PairStore

#: The filter name the safety templates give their judge (``filter_list: - name: judge``).
FILTER = "judge"
RATES = ("refusal_rate", "answer_rate", "ambiguous_rate")


def judged_task(task: str) -> bool:
    """Whether ``task`` belongs to a family whose responses are judged (``conj_advbench_*``, ``conj_multijail_*``)."""
    return any(task.startswith(f.tag + "_") for f in families.FAMILIES.values() if f.judged)


def rejudge_samples(rows: list[dict[str, Any]], spec: JudgeSpec) -> list[dict[str, Any]]:
    """A judged task's samples relabelled by ``spec`` (all in one batch, as during evaluation)."""
    responses = [r["resps"][0][0] if r.get("resps") and r["resps"][0] else "" for r in rows]
    docs = [r.get("doc") or {} for r in rows]
    verdicts = run_judge(spec, responses, [d.get("english") for d in docs], [d.get("lang") for d in docs],
                         sent=[d.get("instruction") for d in docs])
    carried = json.dumps(spec.to_dict())
    out = []
    for row, doc, verdict in zip(rows, docs, verdicts):
        new = dict(row)
        new["doc"] = {**doc, "judge": carried}
        new["filtered_resps"] = [json.dumps(verdict.to_dict(), ensure_ascii=False)]
        new.update(safety.score(verdict.to_dict()))
        out.append(new)
    return out


def _stderr(values: list[float]) -> float | str:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else "N/A"


def rejudge_results(results: dict[str, Any], task: str, rows: list[dict[str, Any]], spec: JudgeSpec) -> dict:
    """``results`` (lm-eval's results file) with the task's rates recomputed from ``rows`` and the judge recorded."""
    out = json.loads(json.dumps(results))
    metrics = (out.setdefault("results", {})).setdefault(task, {})
    for rate in RATES:
        values = [float(r[rate]) for r in rows]
        metrics[f"{rate},{FILTER}"] = sum(values) / len(values) if values else float("nan")
        metrics[f"{rate}_stderr,{FILTER}"] = _stderr(values)
    config = (out.get("configs") or {}).get(task)
    if isinstance(config, dict):
        kept = {k: v for k, v in (config.get("metadata") or {}).items() if not k.startswith("judge")}
        config["metadata"] = {**kept, **{k: v for k, v in spec.as_metadata().items() if v is not None},
                              "judge_identity": spec.identity()}
    return out


def rejudge_store(store: PairStore, spec: JudgeSpec, role_identities: dict[str, dict[str, Any]]) -> list[str]:
    """Relabel every finished judged unit of a compare folder; each unit's identity becomes ``role_identities``.

    Units of other tasks only get the new identity (the judge does not touch them). Returns the units relabelled.
    """
    from conj_harness.files import jsonl
    from conj_harness.lmeval import outputs

    done = []
    for role in ROLES:
        for task in store.tasks():
            if store.status(role, task, unverified_ok=True).state != "done":
                continue
            if not judged_task(task):
                store.set_identity(role, task, role_identities[role])
                continue
            record = {k: v for k, v in store.done_record(role, task).items()
                      if k not in ("role", "task", "files", "n_samples", "finished_at")}
            rows = rejudge_samples(outputs.read_samples(store.samples_path(role, task)), spec)
            record["metrics"] = {rate: sum(float(r[rate]) for r in rows) / len(rows) for rate in RATES} \
                if rows else record.get("metrics")
            record["identity"] = role_identities[role]
            results = rejudge_results(store.results(role, task), task, rows, spec)
            samples = jsonl.encode(rows, source=str(store.samples_path(role, task)))
            store.commit(role, task, results, samples, record)  # done.json last, with the new files' digests
            done.append(f"{role} {task}")
    return done
