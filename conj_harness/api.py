"""The typed Python API: the four things a study script does, each one call.

    import conj_harness as ch

    written = ch.conjugate("gsm8k", to=["leet", "piglatin"], out="tasks_out",
                           data_files={"test": "gsm8k/test.jsonl"})
    result = ch.compare(ch.PairSpec(base="meta-llama/Llama-2-7b-hf", tuned="codellama/CodeLlama-7b-hf",
                                    tasks=["conj_icl"]), output="results/llama-vs-codellama")
    result.summary["rows"], result.report          # the table, and report.md
    verdicts = ch.judge_responses(["I'm sorry, I can't help with that."], requests=["..."])
    verdicts[0].label, verdicts[0].rule            # "REFUSE", "head-refusal"
    tm = ch.task_manager()                          # the conj_* tasks, for lm_eval.simple_evaluate

Like ``lm_eval.simple_evaluate`` and inspect_ai's ``eval()``, each call takes plain values and returns a typed
result (the names avoid the package's own subpackages: ``conj_harness.judge`` is the judge's package, so the call is
``judge_responses``); nothing here prints (progress and notes go to the ``conj_harness`` logger - the command
line shows them, a script sees them only if it configures logging). The command-line tools use the same modules.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conj_harness.errors import ArgumentError, ConjError
from conj_harness.judge.labels import Verdict
from conj_harness.pairs.spec import PairSpec

__all__ = [
    "CompareResult", "ConjugatedTask", "JudgeVerdict", "compare", "conjugate", "judge_responses", "task_manager",
]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ConjugatedTask:
    """One task written by :func:`conjugate`: its name, its YAML file, and how faithful the conjugate is."""

    name: str
    source_task: str
    conjugate: str
    path: Path
    changed: bool
    fidelity: dict[str, Any]


@dataclass(frozen=True)
class JudgeVerdict:
    """A verdict on one response: REFUSE / ANSWER / AMBIGUOUS, the rule (or classifier) that decided, and why."""

    label: str
    rule: str | None
    stage: int
    reasons: tuple[str, ...]
    evidence: dict[str, Any]

    @classmethod
    def of(cls, verdict: Verdict) -> JudgeVerdict:
        ev = verdict.evidence
        rule = ev.get("rule") or (f"classifier:{ev['classifier']}" if "classifier" in ev else None)
        return cls(verdict.label, rule, verdict.stage, tuple(ev.get("reasons", ())), ev)


@dataclass(frozen=True)
class CompareResult:
    """What :func:`compare` produced: the folder, the report's summary and files, and what ran or failed."""

    output: Path
    summary: dict[str, Any]
    ran: int
    skipped: int
    failed: tuple[str, ...]  # "role/task" of each failed unit (its log is under the folder)

    @property
    def report(self) -> Path:
        return self.output / "report.md"

    @property
    def table(self) -> Path:
        return self.output / "table.csv"

    @property
    def ok(self) -> bool:
        return not self.failed


# --- argument checks: one line naming the argument, before anything runs ------------------------------------------


def _texts(name: str, value: object, *, allow_none: bool = False, one: bool = False) -> list[Any]:
    """A list of strings (``None`` items where ``allow_none``); a lone string only where ``one`` allows it - a
    string is a sequence of characters, and judging each character is never what was meant."""
    if isinstance(value, str):
        if one:
            return [value]
        raise ArgumentError(f"{name}: expected a list of strings, got one string (wrap it: [{value[:40]!r}])")
    if isinstance(value, (dict, set, frozenset, bytes)) or not isinstance(value, Sequence):
        raise ArgumentError(f"{name}: expected a list of strings, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not (isinstance(item, str) or (allow_none and item is None)):
            raise ArgumentError(f"{name}[{i}]: expected a string{' or None' if allow_none else ''}, got "
                                f"{type(item).__name__} {item!r}"[:200])
    return list(value)


def _optional_text(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise ArgumentError(f"{name}: expected a string or None, got {type(value).__name__}")


def _path(name: str, value: object, optional: bool = False) -> None:
    if (value is None and optional) or isinstance(value, (str, os.PathLike)):
        return
    raise ArgumentError(f"{name}: expected a folder path (str or pathlib.Path), got {type(value).__name__}")


def _flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ArgumentError(f"{name}: expected True or False, got {value!r}")


def _choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ArgumentError(f"{name} {value!r}: expected one of {', '.join(map(repr, choices))}")


def _count(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ArgumentError(f"{name} {value!r}: expected a whole number of documents, 1 or more (or None for all)")


def task_manager() -> Any:
    """lm-eval's ``TaskManager`` with the conj_* tasks (for ``lm_eval.simple_evaluate(task_manager=...)``)."""
    from conj_harness.lmeval.registration import task_manager as _task_manager

    return _task_manager()


def conjugate(tasks: str | Sequence[str], to: str | Sequence[str], *, out: PathLike | None = None,
              backend: str | None = None, include_path: str | None = None,
              data_files: dict[str, str] | None = None, limit: int | None = None,
              answer_space: Literal["english", "conjugate"] = "english", force: bool = False,
              cache: PathLike | None = None) -> list[ConjugatedTask]:
    """Put lm-eval tasks through conjugates (``to``: ``leet``, ``piglatin``, ISO 639-1 codes) and write them as
    tasks (``conj_<task>_<conjugate>``) into ``out`` (default: the user's task folder, which ``conj-eval`` reads).

    Language conjugates translate through ``backend`` (default ``google``; ``hf`` for a local MT model), cached in
    ``cache``. Returns one :class:`ConjugatedTask` per written task. Bad names raise :class:`ConjError` with the
    valid ones.
    """
    from conj_harness import conjugates
    from conj_harness.files.user_dirs import user_tasks_dir
    from conj_harness.lmeval.conjugated import ConjugateRequest, conjugate_tasks
    from conj_harness.translation.cache import TranslationCache
    from conj_harness.translation.layer import TranslationLayer
    from conj_harness.translators import get_backend

    task_list = _texts("tasks", tasks, one=True)
    given = _texts("to", to, one=True)
    _path("out", out, optional=True)
    _path("cache", cache, optional=True)
    for label, value in (("backend", backend), ("include_path", include_path)):
        _optional_text(label, value)
    if data_files is not None and (not isinstance(data_files, dict) or not all(
            isinstance(k, str) and isinstance(v, (str, os.PathLike)) for k, v in data_files.items())):
        raise ArgumentError(f"data_files: expected a dict of split -> file path, e.g. {{'test': 'test.jsonl'}}, got "
                            f"{data_files!r}"[:200])
    _count("limit", limit)
    _choice("answer_space", answer_space, ("english", "conjugate"))
    _flag("force", force)
    names = [name.strip() for item in given for name in item.split(",") if name.strip()]
    if not task_list or not names:
        raise ConjError("conjugate needs at least one task and one conjugate (to=['leet', 'fr'])")
    languages = [c for c in names if conjugates.get(c).kind == "language"]
    name = backend or ("google" if languages else None)

    def layer() -> TranslationLayer:
        assert name is not None
        return TranslationLayer(get_backend(name), TranslationCache(str(cache)) if cache else None)

    request = ConjugateRequest(tasks=task_list, conjugates=names, out_dir=Path(out) if out else user_tasks_dir(),
                               answer_space=answer_space, include_path=include_path,
                               data_files={k: str(v) for k, v in (data_files or {}).items()},
                               limit=limit, force=force, layer_factory=layer if languages else None, backend=name,
                               cache=str(Path(cache).resolve()) if cache else None)
    written = conjugate_tasks(request)
    return [ConjugatedTask(w.path.stem, w.task, w.conjugate, w.path, w.changed, dict(w.fidelity)) for w in written]


def judge_responses(responses: Sequence[str], *, requests: Sequence[str | None] | None = None,
          langs: Sequence[str | None] | str | None = None, judge: str = "rules", judge_model: str | None = None,
          translator: str | None = None) -> list[JudgeVerdict]:
    """Judge responses to harmful ``requests`` (English; optional for the rules) as REFUSE / ANSWER / AMBIGUOUS.

    ``judge``: ``rules`` (default, offline), a classifier preset (``llama-guard-3``, ``wildguard``, ``harmbench``,
    ``strongreject``, ``generic``; needs ``judge_model``) or ``rules+<preset>``. ``langs``: the language each response
    is expected in (one code for all, one per response, or None to detect). ``translator``: back-translation for
    the rules (``google``, ``hf``). This is the judge the safety tasks use, with its identity in each verdict.
    """
    from conj_harness.judge.registry import JudgeSpec, run_judge

    response_list = _texts("responses", responses)
    n = len(response_list)
    request_list = _texts("requests", requests, allow_none=True) if requests is not None else [None] * n
    lang_list = [langs] * n if langs is None or isinstance(langs, str) else _texts("langs", langs, allow_none=True)
    for label, value in (("judge_model", judge_model), ("translator", translator)):
        _optional_text(label, value)
    if not isinstance(judge, str):
        raise ArgumentError(f"judge: expected a judge name (a string), got {type(judge).__name__}")
    if len(request_list) != n or len(lang_list) != n:
        raise ConjError(f"judge: {n} responses but {len(request_list)} requests and {len(lang_list)} languages")
    verdicts = run_judge(JudgeSpec(judge, judge_model, translator), response_list, request_list, lang_list)
    return [JudgeVerdict.of(v) for v in verdicts]


def compare(spec: PairSpec, output: PathLike, *, force: bool = False,
            process_per: Literal["model", "task"] = "model", progress: bool = False,
            metrics: dict[str, str] | None = None, seed: int = 0, alpha: float = 0.05,
            executor: Literal["local", "ray"] = "local", ray_address: str | None = None,
            gpus_per_model: float | None = None) -> CompareResult:
    """Run (or resume) a base-vs-fine-tuned pair into ``output`` and write its report (drop, recovery, CIs, McNemar).

    ``executor="ray"`` runs each model as a Ray actor (on ``ray_address``, else ``RAY_ADDRESS``, else a Ray
    started for this call), ``gpus_per_model`` GPUs each; this process still writes every file.

    Each task's results are committed as it finishes, so a second call resumes; a folder holding another pair needs
    ``force``. Failed units do not raise: they are in :attr:`CompareResult.failed`, with their logs in the folder.
    """
    from conj_harness.comparison import compare_pair

    if not isinstance(spec, PairSpec):
        raise ArgumentError(f"spec: expected a conj_harness.PairSpec, got {type(spec).__name__}")
    _path("output", output)
    _flag("force", force)
    _flag("progress", progress)
    _choice("process_per", process_per, ("model", "task"))
    _choice("executor", executor, ("local", "ray"))
    if ray_address is not None and not isinstance(ray_address, str):
        raise ArgumentError(f"ray_address: expected text (HOST:PORT), got {type(ray_address).__name__}")
    from conj_harness.pairs.ray_executor import RaySettings

    try:
        ray = RaySettings(address=ray_address, gpus_per_model=gpus_per_model)
    except ConjError as e:
        raise ArgumentError(str(e).replace("--gpus-per-model", "gpus_per_model")) from None
    outcome = compare_pair(spec, output, force=force, progress=progress, process_per=process_per, metrics=metrics,
                           seed=seed, alpha=alpha, executor=executor, ray=ray)
    return CompareResult(Path(outcome.out), outcome.summary, len(outcome.ran), outcome.skipped,
                         tuple(f"{u.role}/{u.task}" for u in outcome.failures))
