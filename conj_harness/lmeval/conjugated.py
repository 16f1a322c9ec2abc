"""``conj-harness conjugate TASK --to C``: any lm-eval task put through a conjugate, written as ordinary task YAMLs.

Conjugate prompting is ``s^-1(f(s(P)))``. For a task (built-in, ``--include_path`` or user-added; a group or tag
stands for its tasks) and each conjugate ``c`` this writes ``conj_<task>_<c>`` plus the identity baseline
``conj_<task>_en``, tagged ``conj_<task>``, into ``<out>/conjugated/<task>/``:

* the documents are materialized once (:mod:`conj_harness.lmeval.conjugated_data`): what the model sees - the
  task's ``doc_to_text``, its description and answer prefix, the few-shot examples' texts and targets - is
  conjugated per document, and for ``multiple_choice`` / ``loglikelihood`` tasks also the choices or the
  continuation (the gold index is kept, so the task's own metrics stay valid). Stop sequences get their
  conjugated forms added. Running the task needs no translator for any of that.
* the YAML ``include``-s the original task's YAML and overrides only those fields, so its metrics, filters,
  ``process_results``, generation settings, ``--num_fewshot`` and chat templates behave as in the original.
* ``generate_until``: answers are mapped back to English (cipher inverse or back-translation) by a first filter
  step before the task's own filters - unless ``answer_space="conjugate"``, for answers that the conjugate leaves
  unchanged (numbers under a cipher).
* fidelity: round-trip chrF of the conjugated strings and the language-check pass rate go to the task's
  ``metadata.conjugation``; ``min_chrf`` refuses a task below it before anything is written.

Conjugating again with the same inputs is a no-op; a ``conj_<task>_<c>`` with other content is not overwritten
without ``force``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conj_harness import conjugates
from conj_harness.errors import ConjError
from conj_harness.files import atomic, jsonl, names
from conj_harness.lmeval import compat, conjugated_data
from conj_harness.lmeval.preflight import build_error
from conj_harness.lmeval.registration import (
    folders_mentioning,
    member_tasks,
    resolve_tasks_in,
    search_paths,
    split_paths,
    tasks_dir,
    with_unreadable_yamls,
)
from conj_harness.translation.fidelity import roundtrip_chrf
from conj_harness.translation.layer import TranslationLayer
from conj_harness.translation.transform import ConjugateTransform

ANSWER_SPACES = ("english", "conjugate")
HEADER = "# Written by `conj-harness conjugate`: edit the original task, then conjugate again.\n"
HOOKS = "conj_harness.lmeval.conjugated_data"
#: Backends that can translate any text both ways (a back-translation of free-form answers needs that).
BACK_TRANSLATORS = ("google", "hf")


@dataclass
class ConjugateRequest:
    """What to conjugate, into what, and how (see the module docstring)."""

    tasks: list[str]
    conjugates: list[str]
    out_dir: Path
    answer_space: str = "english"
    include_path: str | None = None
    #: Local files for the original task's splits (``{"test": "gsm8k/test.jsonl"}``): its dataset then loads offline.
    data_files: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    fewshot_pool: int | None = None
    min_chrf: float | None = None
    force: bool = False
    #: The translator for language conjugates (``None``: ciphers only), its backend name and model (recorded so that
    #: answers can be back-translated at evaluation time).
    layer_factory: Callable[[], TranslationLayer] | None = None
    backend: str | None = None
    mt_model: str | None = None
    #: the backend's settings given on the command line (service_url, retries, device) and the cache file, if any
    backend_options: dict[str, Any] = field(default_factory=dict)
    cache: str | None = None


@dataclass
class Written:
    task: str
    conjugate: str
    path: Path
    changed: bool
    fidelity: dict[str, Any]


# --- which tasks ------------------------------------------------------------------------------------------------


def _index(include_path: str | None) -> dict[str, compat.IndexEntry]:
    return compat.task_index([compat.builtin_tasks_dir(), *search_paths(include_path)])


def _folders_naming(names: Sequence[str], roots: Sequence[Path]) -> list[Path] | None:
    """The folders whose YAML files mention every name as a word, or None when one is mentioned nowhere."""
    found = folders_mentioning(names, roots)
    if not all(found.values()):
        return None
    # the roots' order is kept (a folder of lm-eval's, then ours), as in the full index
    return sorted({f for folders in found.values() for f in folders},
                  key=lambda f: (next(i for i, r in enumerate(roots) if f.is_relative_to(r)), str(f)))


def _narrow_index(names: Sequence[str], include_path: str | None) -> dict[str, compat.IndexEntry] | None:
    """An index of only the folders that define ``names``, when that settles them: lm-eval's full index reads
    ~14,000 YAML files (15 s); a task or group whose members are all found needs only its own folders. Tags, whose
    members may inherit the tag through an include anywhere, and anything not settled take the full index."""
    roots = [compat.builtin_tasks_dir(), *search_paths(include_path)]
    folders = _folders_naming(names, roots)
    if folders is None:
        return None
    index = compat.task_index(folders, roots)
    pending, seen = list(names), set()
    while pending:
        name = pending.pop()
        entry = index.get(name)
        if entry is None or entry.kind not in ("task", "group"):
            return None
        if name not in seen:
            seen.add(name)
            pending.extend(entry.members)
    return index


def resolve_sources(names: Sequence[str], include_path: str | None) -> tuple[list[str], dict[str, compat.IndexEntry]]:
    """The leaf tasks ``names`` stand for (groups and tags expanded); an unknown name lists close ones."""
    index = _narrow_index(names, include_path) or _index(include_path)
    for name in names:
        if name not in index:
            close = difflib.get_close_matches(name, list(index), n=5, cutoff=0.6)
            error = ConjError(f"unknown task {name!r}: " + (f"close names: {', '.join(close)}" if close else
                                                           "no close name (see `lm_eval ls tasks`)"))
            raise with_unreadable_yamls(error, name, split_paths(include_path))
    for name in names:
        entry = index[name]
        if entry.kind in ("group", "tag") and not member_tasks(index, name):
            raise ConjError(f"{name} is a {entry.kind} whose tasks lm-eval's index does not list (defined inside the "
                            "group's YAML): conjugate its tasks by name instead")
    tasks = resolve_tasks_in(index, names)
    bad = [t for t in tasks if index[t].yaml_path is None or "class" in index[t].config]
    if bad:
        raise ConjError(f"{bad[0]} is defined in Python, not in a task YAML: only YAML tasks can be conjugated")
    code = [t for t in tasks if index[t].config.get("unsafe_code")]
    if code:
        raise ConjError(f"{code[0]} scores the model's program by running it: a conjugated program is not a program "
                        "(the ciphers rewrite keywords and names, and their inverse cannot restore case: ValueError "
                        "-> valueerror), so its metric would measure the conjugate. Conjugate natural-language tasks")
    already = [t for t in tasks if t.startswith("conj_")]
    if already:
        raise ConjError(f"{already[0]} is a conj task already: conjugate the original task instead")
    return tasks, index


def data_files_overrides(config: dict[str, Any], data_files: dict[str, str], kind: str = "json") -> dict[str, Any]:
    """The config changes that make a task read ``data_files`` (``{split: path}``, files of one ``kind``) instead of
    its dataset. A split the task names but the files do not give is dropped (a few-shot pool the user did not
    mirror); lm-eval's few-shot fallback then picks from the splits that are left."""
    overrides: dict[str, Any] = {"dataset_path": kind, "dataset_name": None,
                                 "dataset_kwargs": {"data_files": data_files}}
    for key in ("training_split", "validation_split", "test_split", "fewshot_split"):
        if config.get(key) and config[key] not in data_files:
            overrides[key] = None
    return overrides


def _load_task(name: str, entry: compat.IndexEntry, data_files: dict[str, str]) -> Any:
    """The original task object with its documents (from ``data_files`` when given); one line when offline."""
    overrides: dict[str, Any] = {}
    if data_files:
        kinds = {Path(p).suffix.lstrip(".").replace("jsonl", "json") for p in data_files.values()}
        if len(kinds) != 1 or not kinds <= {"json", "csv", "parquet"}:
            raise ConjError("--data-files: give .jsonl/.json, .csv or .parquet files, all of one kind")
        for split, path in data_files.items():
            if not Path(path).is_file():
                raise ConjError(f"--data-files {split}={path}: no such file")
            _check_data_file(split, Path(path))
        overrides = data_files_overrides(entry.config, {s: str(Path(p).resolve()) for s, p in data_files.items()},
                                         kinds.pop())
        named = {str(entry.config[k]) for k in ("test_split", "validation_split") if entry.config.get(k)}
        if named and not named & set(data_files):
            raise ConjError(f"--data-files gives no split {name} evaluates on: add "
                            + " or ".join(f"{s}=PATH" for s in sorted(named)))
    assert entry.yaml_path is not None
    try:
        with compat.quiet_task_building():
            return compat.build_task_from_yaml(entry.yaml_path, overrides)
    except Exception as e:  # noqa: BLE001 - datasets/hub errors come in many types; the message says what to do
        raise build_error(name, e, entry.yaml_path, entry.config, data_files=bool(data_files),
                          local_files="give local files: --data-files test=PATH[,train=PATH]") from None


def _check_data_file(split: str, path: Path) -> None:
    """A JSON Lines file read strictly before lm-eval's loader sees it: a bad byte, a bad line or an empty file is
    one line naming the file and line (the loader's own errors name neither)."""
    from conj_harness.files.jsonl import read_objects

    if path.suffix not in (".jsonl", ".json"):
        return
    if path.suffix == ".json":
        try:
            json.loads(path.read_text(encoding="utf-8"))
            return  # a JSON document (the loader also takes a list or a {"data": [...]} object)
        except (UnicodeDecodeError, ValueError):
            pass  # maybe JSON Lines under a .json name: read it as such for the precise line
    rows = 0
    for _n, _row in read_objects(path, hint=f"--data-files {split}={path}"):
        rows += 1
    if not rows:
        raise ConjError(f"--data-files {split}={path}: the file holds no rows")


def _check_fields(name: str, split: str, rendered: list[Rendered]) -> None:
    """A row missing a field the prompt reads becomes the text "None" (datasets fills absent keys with None):
    conjugated, that is "N0n3" in a prompt. Refuse, naming the row and the field."""
    for i, r in enumerate(rendered):
        empty = [k for k, v in r.doc.items() if v is None]
        parts = [r.text, r.target, *(r.choices or [])]
        if empty and any(isinstance(x, str) and "None" in x for x in parts):
            raise ConjError(f"{name}: {split} row {i + 1} has no value for {', '.join(empty[:5])} (None), and its "
                            "prompt reads 'None': complete the rows (or drop them) and run again")


# --- rendering the original task --------------------------------------------------------------------------------


@dataclass
class Rendered:
    """One original document as the model sees it (the parts lm-eval assembles into a prompt)."""

    doc: dict[str, Any]
    text: Any
    target: Any
    choices: list[str] | None
    description: str | None
    gen_prefix: str | None


def _gold_index(target: Any, choices: list[str] | None) -> Any:
    if choices is None:
        return target
    if isinstance(target, list):
        return [_gold_index(t, choices) for t in target]
    if isinstance(target, str) and target in choices:
        return choices.index(target)
    return target


def _render(task: Any, docs: Iterable[dict[str, Any]], fewshot: bool) -> list[Rendered]:
    out = []
    for doc in docs:
        doc = dict(doc)
        r = compat.render_doc(task, doc, fewshot)
        out.append(Rendered(doc, r.text, _gold_index(r.target, r.choices), r.choices, r.description, r.gen_prefix))
    return out


@dataclass
class Source:
    """An original task, rendered: its eval split and few-shot pool, and the config fields a conjugate changes."""

    name: str
    entry: compat.IndexEntry
    output_type: str
    eval_split: str
    eval_is_test: bool
    eval_docs: list[Rendered]
    fewshot_split: str | None
    fewshot_docs: list[Rendered]
    inline_fewshot: bool
    until: list[str]
    #: the task's own ``fewshot_config.split`` (None: lm-eval falls back to training/validation/test); kept as is,
    #: since lm-eval leaves the evaluated document out of its examples by comparing it with the test split
    fewshot_named: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the task's generation settings as lm-eval built them (its defaults included)
    generation: dict[str, Any] = field(default_factory=dict)
    #: the name lm-eval's results table shows for it (``task_alias``, possibly from an included file)
    alias: str | None = None
    #: the built original task (its filters and metrics score a perfect conjugated answer)
    task: Any = None


def load_source(name: str, entry: compat.IndexEntry, request: ConjugateRequest) -> Source:
    task = _load_task(name, entry, request.data_files)
    config = task.config
    eval_is_test = bool(task.has_test_docs())
    eval_split = config.test_split if eval_is_test else config.validation_split
    if not eval_split:
        raise ConjError(f"{name} has no test or validation split to evaluate on")
    all_docs = list(task.test_docs() if eval_is_test else task.validation_docs())
    docs = all_docs[: request.limit] if request.limit else all_docs
    source = compat.fewshot_source(task)  # where lm-eval draws the examples from
    inline, fewshot, notes = False, [], []
    fewshot_split = source.split
    if fewshot_split == eval_split:
        fewshot = docs
        if request.limit and request.limit < len(all_docs) and (config.num_fewshot or 0) > 0:
            if request.limit <= (config.num_fewshot or 0):
                raise ConjError(f"{name} draws its {config.num_fewshot} few-shot examples from its evaluation split "
                                f"({eval_split}), and --limit {request.limit} leaves too few: use a larger --limit")
            notes.append(f"{name}: few-shot examples come from the evaluation split, here only its first "
                         f"{request.limit} documents (--limit)")
    elif fewshot_split:
        try:
            fewshot = list(task.fewshot_docs())
        except Exception as e:  # noqa: BLE001 - a split that is not there
            raise ConjError(f"{name} takes its few-shot examples from split {fewshot_split!r}, which cannot be "
                            f"loaded ({type(e).__name__}): give it with --data-files {fewshot_split}=PATH") from None
    elif source.samples is not None:
        inline = True
        fewshot = source.samples
    if request.fewshot_pool is not None and fewshot is not docs:
        fewshot = fewshot[: request.fewshot_pool]
    generation = dict(config.generation_kwargs or {})
    until = generation.get("until") or []
    until = [until] if isinstance(until, str) else list(until)
    eval_rendered = _render(task, docs, False)
    fewshot_rendered = _render(task, fewshot, True) if fewshot is not docs else []
    _check_fields(name, eval_split, eval_rendered)
    _check_fields(name, fewshot_split or eval_split, fewshot_rendered)
    return Source(name, entry, config.output_type, eval_split, eval_is_test, eval_rendered,
                  fewshot_split if not inline else None, fewshot_rendered, inline,
                  [u for u in until if isinstance(u, str)], source.named, notes, generation,
                  getattr(config, "task_alias", None), task)


# --- conjugating ------------------------------------------------------------------------------------------------


def _is_special(stop: str) -> bool:
    """Stop strings that are tokens, not words (``</s>``, ``<|im_end|>``) or only punctuation/whitespace."""
    return (stop.startswith("<") and stop.endswith(">")) or not any(ch.isalpha() for ch in stop)


def _strings(rendered: Sequence[Rendered]) -> list[str]:
    found: list[str] = []
    for r in rendered:
        for value in (r.text, r.target, r.description, r.gen_prefix, *(r.choices or [])):
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, list):
                found += [v for v in value if isinstance(v, str)]
    return found


def _rows(rendered: Sequence[Rendered], split: str, mapped: dict[str, str], output_type: str) -> list[dict]:
    def m(value: Any) -> Any:
        if isinstance(value, str):
            return mapped.get(value, value)
        if isinstance(value, list):
            return [m(v) for v in value]
        return value

    rows = []
    for i, r in enumerate(rendered):
        row = {k: v for k, v in r.doc.items() if k not in conjugated_data.FIELDS}
        row["_conj_id"] = f"{split}:{i}"
        row["_conj_text"] = m(r.text)
        if r.choices is not None:
            row["_conj_choices"] = m(r.choices)
            # the gold index; a string not among the choices (tasks with several inputs, such as winogrande,
            # score the one continuation) is text the model sees, so it is conjugated too
            row["_conj_gold"] = m(r.target)
            if output_type != "multiple_choice":  # what its few-shot examples show as the answer
                shown = r.choices[r.target] if isinstance(r.target, int) and 0 <= r.target < len(r.choices) \
                    else r.target
                row["_conj_target"] = m(shown) if isinstance(shown, str | list) else str(shown)
        else:
            target = r.target[0] if output_type == "generate_until" and isinstance(r.target, list) else r.target
            row["_conj_target"] = m(target) if isinstance(target, str | list) else str(target)
        if r.description:
            row["_conj_description"] = m(r.description)
        if r.gen_prefix:
            row["_conj_gen_prefix"] = m(r.gen_prefix)
        rows.append(row)
    return rows


@dataclass
class Conjugated:
    source: Source
    conjugate: str
    eval_rows: list[dict]
    fewshot_rows: list[dict]
    until: list[str]
    fidelity: dict[str, Any]


def conjugate_source(source: Source, transform: ConjugateTransform) -> Conjugated:
    """Every string of the task through ``transform`` (each distinct string once), and its round-trip chrF."""
    strings = list(dict.fromkeys(_strings(source.eval_docs) + _strings(source.fewshot_docs)))
    stops = [s for s in source.until if not _is_special(s)]
    done = transform.forward(strings + stops)
    mapped = dict(zip(strings + stops, done))
    fidelity: dict[str, Any] = {"strings": len(strings)}
    if transform.name != "en":
        fidelity.update(transform.describe())
        changed = [(s, mapped[s]) for s in strings if s.strip()]
        back: dict[str, str] = {}

        def inverse(texts: Sequence[str]) -> list[str]:
            out = transform.inverse(texts)
            back.update(zip(texts, out))
            return out

        score = roundtrip_chrf([s for s, _ in changed], [c for _, c in changed], inverse)
        fidelity["roundtrip_chrf"] = score["score"]
        fidelity["roundtrip_below_50"] = score["below"]
        if source.output_type == "generate_until":
            # Answers are mapped back by the same inverse: how often does a reference answer survive it exactly?
            # (Leetspeak reads "is" back as "15"; a metric that reads words then fails even for a right answer.)
            targets = [t for r in source.eval_docs for t in ([r.target] if isinstance(r.target, str) else [])
                       if t.strip()]
            if targets:
                exact = sum(back.get(mapped.get(t, t), t).strip() == t.strip() for t in targets) / len(targets)
                fidelity["answer_roundtrip_exact"] = round(exact, 4)
            perfect = _perfect_answer_scores(source, transform)
            if perfect:
                fidelity["perfect_answer"] = perfect
            agreement = _filter_agreement(source, transform)
            if agreement:
                fidelity["answer_filter_agreement"] = agreement
    until = list(dict.fromkeys(source.until + [mapped[s] for s in stops]))
    return Conjugated(source, transform.name,
                      _rows(source.eval_docs, source.eval_split, mapped, source.output_type),
                      _rows(source.fewshot_docs, source.fewshot_split or "fewshot", mapped, source.output_type),
                      until, fidelity)


#: A perfect conjugated answer must keep this share of what the perfect English answer scores, per filter and
#: metric, or ``conjugate`` warns (the task's filters cannot read the mapped-back answers).
PERFECT_ANSWER_MIN_SHARE = 0.9
#: Documents the perfect-answer figure is computed on (each costs a forward and an inverse of its answer).
PERFECT_ANSWER_DOCS = 50


def _perfect_answer_scores(source: Source, transform: ConjugateTransform) -> dict[str, dict[str, list[float]]]:
    """The task's own filters and metrics on a perfect answer, written as its few-shot examples write answers (a
    chain of thought ending "The answer is 72."), and the same answer conjugated then mapped back as evaluation
    maps the model's answer back: ``{filter: {metric: [conjugated, english]}}``, over the first
    :data:`PERFECT_ANSWER_DOCS` documents.

    "References intact after the inverse" can be 100% while a filter cannot read the answer (gsm8k_cot's
    ``The answer is (...)`` never matches once Leetspeak's "is" -> "15" survives the inverse): this is the
    figure that says so."""
    if source.task is None:
        return {}
    docs, refs = [], []
    for r in source.eval_docs[:PERFECT_ANSWER_DOCS]:
        try:
            shown = compat.render_doc(source.task, dict(r.doc), True).target
        except Exception:  # noqa: BLE001 - no few-shot rendering: the evaluated target
            shown = r.target
        answer = shown if isinstance(shown, str) and shown.strip() else r.target
        if isinstance(answer, str) and answer.strip():
            docs.append(r.doc)
            refs.append(answer)
    if not docs:
        return {}
    answers = transform.inverse(transform.forward(refs))
    try:
        english = compat.score_answers(source.task, docs, refs)
        conjugated = compat.score_answers(source.task, docs, answers)
    except Exception:  # noqa: BLE001 - a metric that needs more than an answer (code execution, a model)
        return {}
    return {f: {m: [round(conjugated.get(f, {}).get(m, 0.0), 4), round(v, 4)] for m, v in metrics.items()}
            for f, metrics in english.items()}


def _filter_agreement(source: Source, transform: ConjugateTransform) -> dict[str, float]:
    """Per filter pipeline: of the few-shot examples' answers - the answers as the task teaches the model to write
    them ("... The answer is 6.") - the share whose conjugated-then-mapped-back form the filter reads exactly as it
    reads the English one. Examples the filter reads nothing from in English (its output for an empty answer) do
    not count. This needs no reference: it asks whether the task's own pipeline can read a right answer at all."""
    if source.task is None:
        return {}
    pool = [r for r in source.fewshot_docs[:PERFECT_ANSWER_DOCS] if isinstance(r.target, str) and r.target.strip()]
    if not pool:
        return {}
    docs, english = [r.doc for r in pool], [str(r.target) for r in pool]
    back = transform.inverse(transform.forward(english))
    try:
        read_en = compat.filter_answers(source.task, docs, english)
        read_back = compat.filter_answers(source.task, docs, back)
        read_none = compat.filter_answers(source.task, docs, [""] * len(docs))
    except Exception:  # noqa: BLE001 - a filter that needs more than an answer
        return {}
    out = {}
    for f, outputs in read_en.items():
        counted = [i for i, x in enumerate(outputs) if x != read_none[f][i]]
        if counted:
            out[f] = round(sum(read_back[f][i] == outputs[i] for i in counted) / len(counted), 4)
    return out


def perfect_answer_warnings(name: str, fidelity: dict[str, Any]) -> list[str]:
    """One line per filter (and metric) that cannot read a right answer once conjugated and mapped back."""
    out = []
    for f, share in (fidelity.get("answer_filter_agreement") or {}).items():
        if share < PERFECT_ANSWER_MIN_SHARE:
            out.append(f"{name}: the {f} filter reads only {share:.0%} of the few-shot examples' answers the same "
                       "once conjugated and mapped back: its scores would measure the conjugate, not the model")
    for f, metrics in (fidelity.get("perfect_answer") or {}).items():
        for m, (conj, en) in metrics.items():
            if en > 0 and conj < PERFECT_ANSWER_MIN_SHARE * en:
                out.append(f"{name}: a perfect answer scores {conj:.2f} on {m} ({f}) once conjugated and mapped "
                           f"back, {en:.2f} in English: the task's filters cannot read the conjugated answers, so "
                           "this metric would measure the conjugate, not the model")
    return out


# --- the task YAML ----------------------------------------------------------------------------------------------


class FunctionRef(str):
    """Dumped as ``!function NAME`` (lm-eval imports it)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 - PyYAML's signature
        return True  # plain repeated mappings, no &anchors: the YAML stays readable and diffable


#: YAML ends a line at these inside a plain or single-quoted scalar (NEL then reads back as a space); a double-quoted
#: scalar escapes them (\N, \L, \P), and every other non-printable character.
_YAML_LINE_ENDS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    if any(c in text for c in _YAML_LINE_ENDS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return dumper.represent_str(text)


class _Loader(yaml.SafeLoader):
    """Reads a written YAML back as it was meant: ``!function NAME`` as a :class:`FunctionRef`."""


_Dumper.add_representer(FunctionRef, lambda dumper, ref: dumper.represent_scalar("!function", str(ref)))
_Dumper.add_representer(str, _represent_str)
_Loader.add_constructor("!function", lambda loader, node: FunctionRef(loader.construct_scalar(node)))


def dump_yaml(config: dict[str, Any], where: str) -> str:
    """A task config as YAML text that reads back as the same config (checked here, before anything is written)."""
    text = yaml.dump(config, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    if yaml.load(text, Loader=_Loader) != config:
        raise ConjError(f"{where}: its task YAML would not read back as written (a text the YAML format cannot "
                        "hold); nothing was written")
    jsonl.dumps(config, source=where, default=str)  # a lone surrogate: one line naming the task, before writing
    return text


def task_name(task: str, conjugate: str) -> str:
    return f"conj_{task}_{conjugate}"


def _is_function_ref(value: Any) -> bool:
    """Whether a config value is a ``!function`` as lm-eval's task index leaves it: ``<yaml folder>/module.name``."""
    if not isinstance(value, str) or not value.startswith("/"):
        return False
    folder, _, qualified = value.rpartition("/")
    module = qualified.rpartition(".")[0]
    return bool(module) and re.fullmatch(r"[\w.]+", qualified) is not None and \
        (Path(folder) / f"{module.replace('.', '/')}.py").is_file()


def _filter_list(raw: Any, invert: dict[str, Any]) -> list[dict[str, Any]]:
    """The original filter pipelines (or lm-eval's default) with ``invert`` as the first step of each."""
    pipelines: list[dict[str, Any]] = raw if isinstance(raw, list) and raw else \
        [{"name": "none", "filter": [{"function": "take_first"}]}]
    out = []
    for pipeline in pipelines:
        steps = [invert]
        for step in pipeline.get("filter") or []:
            function = str(step.get("function", ""))
            refs = {k: v for k, v in step.items() if k != "function" and _is_function_ref(v)}
            if _is_function_ref(function) or refs:  # !function values, read unresolved: resolved when it runs
                kwargs = {k: v for k, v in step.items() if k != "function" and k not in refs}
                steps.append({"function": FunctionRef(f"{HOOKS}.original_filter"), "reference": function,
                              **({"function_kwargs": refs} if refs else {}), **kwargs})
            else:
                steps.append(dict(step))
        out.append({**pipeline, "filter": steps})
    return out


def task_yaml(item: Conjugated, data_dir: Path, request: ConjugateRequest) -> str:
    source, raw = item.source, item.source.entry.config
    mc = source.output_type == "multiple_choice"
    config: dict[str, Any] = {
        "include": str(source.entry.yaml_path),
        "task": task_name(source.name, item.conjugate),
        "tag": [f"conj_{source.name}"],
        "custom_dataset": FunctionRef(f"{HOOKS}.load_materialized"),
        "dataset_kwargs": {"data_dir": str(data_dir)},
        "dataset_name": None,
        "process_docs": None,
        "test_split": source.eval_split if source.eval_is_test else None,
        "validation_split": None if source.eval_is_test else source.eval_split,
        "training_split": source.fewshot_split if source.fewshot_split != source.eval_split else None,
        "fewshot_split": source.fewshot_named if not source.inline_fewshot else None,
        "doc_to_text": "_conj_text",
    }
    if source.alias:  # the results table names each conjugate, not the original three times
        config["task_alias"] = f"{source.alias} ({item.conjugate})"
    if mc:
        config.update(doc_to_choice="_conj_choices", doc_to_target="_conj_gold")
    elif source.output_type != "generate_until":
        config["doc_to_target"] = "_conj_target"  # log-likelihood: the continuation is conjugated too
    if any("_conj_description" in r for r in item.eval_rows):
        config["description"] = "_conj_description"
    if any("_conj_gen_prefix" in r for r in item.eval_rows):
        # lm-eval reads the YAML's gen_prefix text to decide whether a choice needs a delimiter under a chat
        # template (none after a prefix ending in whitespace): a template ending in the same whitespace keeps that
        prefix = raw.get("gen_prefix")
        trail = prefix[len(prefix.rstrip()):] if isinstance(prefix, str) else ""
        config["gen_prefix"] = "{{_conj_gen_prefix.rstrip()}}" + trail if trail else "_conj_gen_prefix"
    fewshot = {k: v for k, v in (raw.get("fewshot_config") or {}).items()
               if k in ("sampler", "fewshot_indices", "fewshot_delimiter", "target_delimiter")}
    fewshot.update(split=source.fewshot_named if not source.inline_fewshot else None, doc_to_text="_conj_text",
                   doc_to_target="_conj_gold" if mc else "_conj_target")
    if mc:
        fewshot["doc_to_choice"] = "_conj_choices"
    if any("_conj_gen_prefix" in r for r in item.fewshot_rows):
        fewshot["gen_prefix"] = "_conj_gen_prefix"
    if source.inline_fewshot:
        fewshot["samples"] = item.fewshot_rows
    config["fewshot_config"] = fewshot
    if source.output_type == "generate_until":
        generation = dict(source.generation)
        if source.until:
            generation["until"] = item.until
        config["generation_kwargs"] = generation
        if request.answer_space == "english" and item.conjugate != "en":
            invert: dict[str, Any] = {"function": FunctionRef(f"{HOOKS}.InvertFilter"), "conjugate": item.conjugate}
            if conjugates.get(item.conjugate).kind == "language":
                invert.update(backend=request.backend or "google", **({"model": request.mt_model}
                                                                      if request.mt_model else {}),
                              **({"options": request.backend_options} if request.backend_options else {}),
                              **({"cache": request.cache} if request.cache else {}))
            config["filter_list"] = _filter_list(raw.get("filter_list"), invert)
    metadata = dict(raw.get("metadata") or {}) if isinstance(raw.get("metadata"), dict) else {}
    metadata["conjugation"] = {"source_task": source.name, "conjugate": item.conjugate,
                               "answer_space": request.answer_space if source.output_type == "generate_until"
                               else "choices", "documents": len(item.eval_rows),
                               "fewshot_pool": len(item.fewshot_rows) if source.fewshot_split != source.eval_split
                               else len(item.eval_rows), **item.fidelity}
    config["metadata"] = metadata
    return HEADER + dump_yaml(config, task_name(source.name, item.conjugate))


# --- writing ----------------------------------------------------------------------------------------------------


def _check_request(request: ConjugateRequest, sources: Sequence[Source]) -> list[str]:
    if request.answer_space not in ANSWER_SPACES:
        raise ConjError(f"--answer-space {request.answer_space!r}: use one of {', '.join(ANSWER_SPACES)}")
    if request.min_chrf is not None and not 0 <= request.min_chrf <= 100:
        raise ConjError(f"--min-chrf {request.min_chrf:g}: chrF runs from 0 to 100")
    names = list(dict.fromkeys(["en", *request.conjugates]))
    for name in names:
        conj = conjugates.get(name)  # an unknown name lists the valid ones
        if conj.kind == "language" and (request.layer_factory is None or request.backend == "cipher"):
            raise ConjError(f"conjugate {name!r} is a language: it needs a translator backend (--backend google|hf"
                            + (", or table with your translations); the cipher backend only does the ciphers"
                               if request.backend == "cipher" else ")"))
    generates = [s.name for s in sources if s.output_type == "generate_until"]
    if generates and request.answer_space == "english":
        for name in names:
            conj = conjugates.get(name)
            if conj.kind == "language" and (request.backend or "google") not in BACK_TRANSLATORS:
                raise ConjError(
                    f"{generates[0]} generates free text: its answers in {name} must be translated back to English "
                    f"when it runs, which the {request.backend} backend cannot do (it only knows the translations in "
                    "its table): use "
                    "--backend google or hf, or --answer-space conjugate if the answers do not change (numbers)")
            if conj.kind == "cipher" and not conj.invertible:
                raise ConjError(f"conjugate {name!r} has no inverse for {generates[0]}'s answers: use "
                                "--answer-space conjugate")
    return names


Planned = tuple[Conjugated, Path, str, dict[Path, bytes]]


def _plan(request: ConjugateRequest, sources: Sequence[Source], conj_names: Sequence[str],
          progress: Callable[[str], None]) -> list[Planned]:
    """Every (task, conjugate): its rows, YAML text and data files - computed before anything is written."""
    planned: list[Planned] = []
    for source in sources:
        for c in conj_names:
            progress(f"conjugating {source.name} -> {c}")
            # a transform (and translation layer) per task: each task's metadata counts its own strings
            transform = ConjugateTransform(c, request.layer_factory if conjugates.get(c).kind == "language" else None)
            item = conjugate_source(source, transform)
            chrf = item.fidelity.get("roundtrip_chrf")
            for warning in perfect_answer_warnings(task_name(source.name, c), item.fidelity):
                progress(f"warning: {warning}")
            if request.min_chrf is not None and c != "en" and chrf is not None and chrf < request.min_chrf:
                raise ConjError(f"{task_name(source.name, c)}: round-trip chrF {chrf:.1f} is below --min-chrf "
                                f"{request.min_chrf:g}; nothing was written (try another --backend or --mt-model)")
            folder = request.out_dir / "conjugated" / source.name
            data_dir = folder / "data" / c
            name = task_name(source.name, c)
            files = {conjugated_data.split_file(data_dir, source.eval_split):
                     conjugated_data.encode_rows(item.eval_rows, f"{name} {source.eval_split} split")}
            if item.fewshot_rows and source.fewshot_split:
                files[conjugated_data.split_file(data_dir, source.fewshot_split)] = \
                    conjugated_data.encode_rows(item.fewshot_rows, f"{name} {source.fewshot_split} split")
            path = folder / f"{task_name(source.name, c)}.yaml"
            for target in [path, *files]:
                names.inside(request.out_dir, target)  # a linked folder under --out must not lead out of it
            planned.append((item, path, task_yaml(item, data_dir, request), files))
    return planned


def _differs(path: Path, content: str | bytes) -> bool:
    """Whether writing ``content`` would change ``path``; a split file holding the same rows in other bytes (raw
    line separators, as an earlier version wrote them) is the same."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if not path.exists():
        return True
    old = path.read_bytes()
    if old == data:
        return False
    if path.suffix != ".jsonl":
        return True
    try:
        return _records(old, path) != _records(data, path)
    except ConjError:
        return True


def _records(data: bytes, path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file's bytes, read as :mod:`conj_harness.files.jsonl` reads the file."""
    from conj_harness.files.text import utf8_lines

    return [row for _n, row in jsonl.objects(utf8_lines(data, str(path)), str(path))]


def _write_data(files: dict[Path, bytes]) -> None:
    """A conjugation's split files, each written atomically if it changed, then read back as the task will read
    them; a split file an earlier conjugation wrote into the same folder and this one does not is removed."""
    for target, content in files.items():
        if _differs(target, content):
            atomic.write_bytes(target, content)
        _check_reads_back(target, content)
    for folder in {target.parent for target in files}:
        for stale in folder.glob("*.jsonl"):
            if stale not in files:
                stale.unlink()


def _check_reads_back(path: Path, content: bytes) -> None:
    """The split file, read by the task's own reader, holds exactly the rows meant: else the task is not written
    (its data file is removed), so a task that cannot be evaluated is never left registered."""
    meant = _records(content, path)
    back: list[dict[str, Any]] | None = None
    try:
        back = conjugated_data.read_split(path.parent, path.stem)
        reason = f"{len(back)} rows read back of {len(meant)} written"
    except ConjError as e:
        reason = str(e)
    if back != meant:
        path.unlink(missing_ok=True)
        raise ConjError(f"{path} does not read back as written ({reason}); nothing was registered for it")


def _check_names(names_of_tasks: Sequence[str], index: dict[str, compat.IndexEntry],
                 conj_names: Sequence[str]) -> None:
    """Each task's name becomes folders and file names: safe, and no written name may be a shipped task's (a
    ``conjugate xnli_fr`` would write the tag ``conj_xnli_fr`` and silently take it from the paper's family)."""
    from conj_harness.families.registry import FAMILIES

    shipped = {f.tag: f for f in FAMILIES.values()}
    shipped.update({f.task_name(c): f for f in FAMILIES.values() for c in f.conjugates()})
    for name in names_of_tasks:
        yaml_path = index[name].yaml_path
        names.check(name, "task", str(yaml_path) if yaml_path else "")
        for c in conj_names:
            names.check(conjugates.get(c).name, "conjugate")  # an unknown one lists the known ones
        for written in [f"conj_{name}", *(task_name(name, c) for c in conj_names)]:
            if written in shipped:
                family = shipped[written]
                file = tasks_dir() / family.name / (f"{written}.yaml" if written != family.tag else family.template)
                raise ConjError(
                    f"conjugating {name} would write the name {written}, which is the shipped paper task or tag of "
                    f"the {family.name} family ({file}): the family would silently lose it. Copy {name}'s YAML "
                    "under another task name into an --include-path folder and conjugate that")


def conjugate_tasks(request: ConjugateRequest, progress: Callable[[str], None] = lambda _m: None) -> list[Written]:
    """Conjugate every task of ``request`` (see the module docstring); returns what was written or found."""
    import dataclasses

    # absolute: the YAMLs name their data folder, and a task must load from any working directory
    request = dataclasses.replace(request, out_dir=Path(request.out_dir).absolute())
    names_of_tasks, index = resolve_sources(request.tasks, request.include_path)
    _check_names(names_of_tasks, index, list(dict.fromkeys(["en", *request.conjugates])))
    _check_request(request, [])  # the settings, before any document is loaded (the tasks' part comes below)
    sources = []
    for name in names_of_tasks:
        progress(f"loading {name}")
        sources.append(load_source(name, index[name], request))
        for note in sources[-1].notes:
            progress(note)
    planned = _plan(request, sources, _check_request(request, sources), progress)
    if not request.force:
        for item, path, text, files in planned:
            targets: list[tuple[Path, str | bytes]] = [(path, text), *files.items()]
            for target, content in targets:
                if target.exists() and _differs(target, content):
                    raise ConjError(f"{target} exists with other content (another conjugation of "
                                    f"{item.source.name}): pass --force to replace it, or --out elsewhere")
    changed = [_differs(path, text) for _item, path, text, _files in planned]
    for _item, _path, _text, files in planned:
        _write_data(files)
    # the YAMLs last, all together: a task is visible only once its data is complete, and an interruption while
    # the data is written leaves no tag with only some of its conjugates
    written = []
    for (item, path, text, _files), change in zip(planned, changed):
        if change:
            atomic.write_text(path, text)
        written.append(Written(item.source.name, item.conjugate, path, change, item.fidelity))
    return written
