"""Making lm-eval see the conj_* tasks: a TaskManager with the package's task folder on its path.

lm-eval 0.4.13 has no plugin hook (see the README), so there are two routes: ``lm_eval --include_path
"$(conj-harness tasks-dir)"`` and :func:`task_manager` for ``lm_eval.simple_evaluate``. ``conj-eval`` installs
:class:`ConjTaskManager` in place of lm-eval's class, so every subcommand (``run``, ``ls``, ``validate``) sees the
tasks without a flag.

Indexing lm-eval's ~14,700 built-in tasks costs ~10 s; a run whose task names all resolve among the conj_* tasks
and the user's own ``--include_path`` folders skips it.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from lm_eval.tasks import TaskManager

from conj_harness.errors import ConjError, UnknownNameError
from conj_harness.lmeval import compat
from conj_harness.lmeval.taskgen import tasks_dir

PREFIX = "conj_"


def split_paths(include_path: str | os.PathLike | Sequence[str | os.PathLike] | None) -> list[Path]:
    """User include paths as a list; ``"a:b"`` (os.pathsep) is split, which plain lm_eval silently ignores."""
    if include_path is None:
        return []
    if isinstance(include_path, (list, tuple)):
        return [p for item in include_path for p in split_paths(item)]
    text = os.fspath(include_path)  # type: ignore[arg-type]  # a str or a path: sequences were handled above
    if os.pathsep in text and not Path(text).exists():
        return [Path(p) for p in text.split(os.pathsep) if p]
    return [Path(text)]


def user_task_dirs() -> list[Path]:
    """Folders of tasks the user added with ``conj-harness add-language`` (they exist once something is added)."""
    from conj_harness.files.user_dirs import user_tasks_dir

    folder = user_tasks_dir()
    return [folder] if folder.is_dir() else []


def search_paths(include_path=None) -> list[Path]:
    """The package's tasks, the user's added languages, then the user's ``--include_path`` folders."""
    return [tasks_dir(), *user_task_dirs(), *split_paths(include_path)]


def folders_mentioning(names: Sequence[str], roots: Sequence[Path],
                       defining: bool = False) -> dict[str, list[Path]]:
    """For each name, the folders under ``roots`` (in their order) with a YAML file that mentions it as a word (with
    ``defining``: as a value of ``task:``, ``group:`` or ``tag:``, or an item of a list): a text scan, ~1 s over
    lm-eval's ~14,000 YAML files where indexing them takes ~15 s."""
    import re

    def pattern(name: str) -> re.Pattern[str]:
        word = re.escape(name)
        if defining:  # `task: NAME`, `tag: [a, NAME]`, or `- NAME` in a list (a group's tasks, a tag list)
            value = rf"""^\s*(?:(?:task|group|tag)\s*:\s*|-\s*)["']?{word}["']?\s*$"""
            inline = rf"""^\s*(?:task|group|tag)\s*:\s*\[[^\]]*(?<![\w.-]){word}(?![\w.-])"""
            return re.compile(f"(?m){value}|{inline}")
        return re.compile(rf"(?<![\w.-]){word}(?![\w.-])")

    words = {name: pattern(name) for name in names}
    found: dict[str, list[Path]] = {name: [] for name in names}
    for root in roots:
        for path in sorted(Path(root).rglob("*.yaml")):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for name, word in words.items():
                if word.search(text) and path.parent not in found[name]:
                    found[name].append(path.parent)
    return found


def check_builtin_shadowing(index: dict[str, compat.IndexEntry], include_path=None) -> None:
    """Refuse a task, group or tag of the user's folders (``--include_path``, added languages, conjugated tasks)
    named like one of lm-eval's built-ins: run with lm-eval's index it would replace the built-in, without it the
    same name would mean another task - and results stored under the name would be mixed up.

    The ``conj_`` names are the project's own (lm-eval has none); only the user's other names are looked up, in the
    built-in folders whose YAML files mention them."""
    roots = [p.resolve() for p in [*user_task_dirs(), *split_paths(include_path)] if p.is_dir()]
    mine = {}
    for name, entry in index.items():
        if name.startswith(PREFIX):
            continue
        files = [entry.yaml_path] if entry.yaml_path else [index[m].yaml_path for m in entry.members if m in index]
        file = next((Path(f) for f in files if f and any(r in Path(f).resolve().parents for r in roots)), None)
        if file is not None:
            mine[name] = (entry, file)
    if not mine:
        return
    builtin = compat.builtin_tasks_dir()
    found = folders_mentioning(list(mine), [builtin], defining=True)
    folders = sorted({f for listed in found.values() for f in listed})
    theirs_index = compat.task_index(folders, roots=[builtin]) if folders else {}
    for name, (entry, file) in mine.items():
        theirs = theirs_index.get(name)
        if theirs is not None and not entry.kind == theirs.kind == "tag":  # tags merge: a user's task may join one
            files = [theirs.yaml_path, *(getattr(theirs_index.get(m), "yaml_path", None) for m in theirs.members)]
            where = next((f for f in files if f), builtin)  # a tag has no file of its own: its first task's
            raise compat.ShadowedTaskError(
                f"{file} defines the {entry.kind} {name!r}, which lm-eval's built-in {where} already defines as a "
                f"{theirs.kind}: one would silently replace the other. Give it another name (its `task:` line)")


class ConjTaskManager(TaskManager):
    """lm-eval's TaskManager with the conj_* tasks included, and a helpful error for unknown conj_* names."""

    #: Whether lm-eval's ~14,700 built-in tasks are indexed when the caller does not say (lm-eval's subcommands
    #: build the manager themselves): :meth:`without_builtins` makes a class where they are not.
    builtins_by_default: bool = True

    def __init__(self, verbosity=None, include_path=None, include_defaults: bool | None = None, metadata=None):
        # lm-eval's own index would let a later folder replace an earlier one's names (a user's task the shipped
        # one, an added language's tag the whole family): it is built empty, then given the merged index
        super().__init__(verbosity=verbosity, include_path=None, include_defaults=False, metadata=metadata)
        paths = search_paths(include_path)
        self.include_path = [str(p) for p in paths]
        defaults = self.builtins_by_default if include_defaults is None else include_defaults
        compat.use_merged_index(self, [compat.builtin_tasks_dir(), *paths] if defaults else paths)

    @classmethod
    def without_builtins(cls) -> type[ConjTaskManager]:
        """A subclass that skips lm-eval's built-in tasks unless asked: what ``conj-eval`` installs for a run whose
        tasks are all ours (indexing the built-ins costs ~10 s). The shared class is never changed."""
        return type(f"{cls.__name__}WithoutBuiltins", (cls,), {"builtins_by_default": False})

    def conj_names(self) -> list[str]:
        return [n for n in self.all_tasks if n.startswith(PREFIX)]

    def match_tasks(self, task_list: list[str]) -> list[str]:
        check_conj_names(task_list, self.all_tasks)
        matched = super().match_tasks(task_list)
        if not matched:
            for spec in task_list:
                if not spec.endswith(".yaml"):
                    raise with_unreadable_yamls(unknown_task(spec, self.all_tasks), spec,
                                                [Path(p) for p in self.include_path or []])
        return matched


def check_conj_names(specs: Iterable[str], known: Sequence[str]) -> None:
    """Raise UnknownNameError for a ``conj_*`` name or glob that matches no registered task or tag."""
    for spec in specs:
        if spec.startswith(PREFIX) and not fnmatch.filter(known, spec):
            raise UnknownNameError("task", spec, [n for n in known if n.startswith(PREFIX)])


def unknown_task(spec: str, known: Sequence[str]) -> ConjError:
    """One line for a task name that matches nothing: the closest names, not all ~14,700."""
    import difflib

    close = difflib.get_close_matches(spec, list(known), n=5, cutoff=0.6)
    hint = f"close names: {', '.join(close)}" if close else "no close name"
    return ConjError(f"unknown task {spec!r} ({hint}; `conj-eval ls tasks` lists them all)")


def task_manager(include_path=None, include_defaults: bool = False, metadata: dict | None = None) -> TaskManager:
    """A TaskManager for ``lm_eval.simple_evaluate(..., task_manager=conj_harness.task_manager())``.

    Built-in lm-eval tasks are left out by default (they cost ~10 s to index); pass ``include_defaults=True``
    to mix them in.
    """
    compat.check_version()
    return ConjTaskManager(include_path=include_path, include_defaults=include_defaults, metadata=metadata)


def local_task_names(include_path=None) -> list[str]:
    """Task, group and tag names found without indexing lm-eval's built-ins (fast)."""
    return sorted(compat.task_index(search_paths(include_path)))


def local_task_fidelity(include_path=None) -> dict[str, str]:
    """Each local task, group and tag with the fidelity its metadata records (conjugated or added languages):
    round-trip chrF and language-check pass rate, as one short text ("" for the shipped tasks)."""
    out = {}
    for name, entry in sorted(compat.task_index(search_paths(include_path)).items()):
        meta = entry.config.get("metadata")
        info = (meta.get("conjugation") or meta.get("translation")) if isinstance(meta, dict) else None
        info = info if isinstance(info, dict) else {}
        parts = []
        if info.get("roundtrip_chrf") is not None:
            parts.append(f"chrF {info['roundtrip_chrf']:.1f}")
        if info.get("pass_rate") is not None:
            parts.append(f"language check {info['pass_rate']:.0%}")
        out[name] = "  ".join(parts)
    return out


def resolve_tasks(specs: Iterable[str], include_path=None) -> list[str]:
    """Expand names, comma lists, globs (``conj_*``) and families (tags such as ``conj_icl``) to task names.

    Order: as requested, each name once. A spec that matches nothing raises :class:`UnknownNameError` listing
    the tasks there are - and names a YAML file that mentions it but cannot be read (lm-eval's index skips such a
    file silently, so "unknown task" alone would send the user looking for a typo).
    """
    try:
        return resolve_tasks_in(compat.task_index(search_paths(include_path)), specs)
    except UnknownNameError as e:
        raise with_unreadable_yamls(e, e.name, split_paths(include_path)) from None


def unreadable_yamls(name: str, roots: Iterable[Path]) -> list[str]:
    """``path: line N: problem`` for each YAML file under ``roots`` that mentions ``name`` but does not parse."""
    import re

    import yaml

    class _AnyTag(yaml.SafeLoader):  # lm-eval's YAMLs carry !function tags: any tag is fine here
        pass

    _AnyTag.add_multi_constructor("", lambda _loader, _suffix, _node: None)
    word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    found = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.yaml")) if Path(root).is_dir() else []:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if not word.search(text):
                continue
            try:
                yaml.load(text, Loader=_AnyTag)  # a SafeLoader subclass
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                where = f"line {mark.line + 1}: " if mark is not None else ""
                found.append(f"{path}: {where}{getattr(e, 'problem', None) or e}")
    return found


def check_unreadable(name: str, include_path=None) -> None:
    """Raise when a YAML file of the user's folders mentions ``name`` but is not valid YAML (lm-eval skips such a
    file, so the name would be reported unknown - or, for a built-in name, silently run lm-eval's task)."""
    broken = unreadable_yamls(name, [*user_task_dirs(), *split_paths(include_path)])
    if broken:
        raise _unreadable(name, broken[0])


def _unreadable(name: str, problem: str) -> ConjError:
    return ConjError(f"unknown task {name!r}: the YAML file that mentions it is not valid YAML, so lm-eval skipped "
                     f"it - fix {problem}")


def with_unreadable_yamls(error: ConjError, name: str, roots: Iterable[Path]) -> ConjError:
    """``error``, or - when a YAML file that mentions ``name`` cannot be read - that file, line and problem."""
    broken = unreadable_yamls(name, roots)
    return _unreadable(name, broken[0]) if broken else error


def member_tasks(index: dict[str, compat.IndexEntry], name: str, seen: set[str] | None = None) -> list[str]:
    """The tasks ``name`` stands for: itself if a task, else its members through nested groups and tags (empty
    when none of them is a task the index lists)."""
    entry = index.get(name)
    if entry is not None and entry.kind == "task":
        return [name]
    seen = set() if seen is None else seen
    if entry is None or name in seen:
        return []
    seen.add(name)
    return [t for sub in entry.members for t in member_tasks(index, sub, seen)]


def resolve_tasks_in(index: dict[str, compat.IndexEntry], specs: Iterable[str]) -> list[str]:
    """:func:`resolve_tasks` against an index already built."""
    tasks = {n for n, e in index.items() if e.kind == "task"}
    out: list[str] = []
    flat = [s.strip() for spec in specs for s in str(spec).split(",") if s.strip()]
    if not flat:
        raise ConjError("--tasks is empty: name tasks, families (conj_icl) or globs ('conj_*')")
    for spec in flat:
        matched = [n for n in sorted(index) if fnmatch.fnmatchcase(n, spec)]
        found = [t for n in matched for t in member_tasks(index, n)]
        if not found:
            raise UnknownNameError("task", spec, sorted(tasks))
        for task in found:  # a glob may match a group or tag and its members too: each task once, first seen first
            if task not in out:
                out.append(task)
    return out
