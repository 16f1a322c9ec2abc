"""What defines a comparison: :class:`PairSpec` (both models, the tasks, and the settings they share) and
``pairs.yaml`` files of several pairs.

Both models get the same tasks, limit, seed and decoding; only the model, adapter, per-role model args and the
chat-template switch differ. :meth:`PairSpec.identity` is what a role's results depend on: the store compares it
on resume and refuses, or with ``--force`` replaces, results made under another identity.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.judge.registry import JudgeSpec

ROLES = ("base", "tuned")
BACKENDS = ("hf", "vllm")
DEFAULT_SEED = "0,1234,1234,1234"


@dataclass
class PairSpec:
    """Everything that defines a comparison; both models get the same tasks, limit, seed and decoding."""

    base: str
    tuned: str | None = None
    tuned_adapter: str | None = None
    tasks: list[str] = field(default_factory=list)
    backend: str = "hf"
    model_args: str = ""
    base_model_args: str = ""
    tuned_model_args: str = ""
    limit: float | None = None
    batch_size: str | None = None
    device: str | None = None
    seed: str = DEFAULT_SEED
    gen_kwargs: str | None = None
    base_chat_template: bool = False
    tuned_chat_template: bool = False
    include_path: str | None = None
    name: str | None = None
    #: The safety tasks' judge (see :mod:`conj_harness.judge.registry`); None: ``CONJ_JUDGE_*``, else ``rules``.
    judge: str | None = None
    judge_model: str | None = None
    judge_translator: str | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConjError(f"unknown backend {self.backend!r}: use one of {', '.join(BACKENDS)}")
        if not self.base:
            raise ConjError("--base is required")
        if not self.tuned and not self.tuned_adapter:
            raise ConjError("give --tuned <model>, or --tuned-adapter <path> (the tuned model is then base + adapter)")
        if not self.tuned:
            self.tuned = self.base
        self.base, self.tuned = normalize_model(self.base), normalize_model(self.tuned)
        if self.tuned_adapter:
            self.tuned_adapter = normalize_model(self.tuned_adapter)
        for label, args in (("--model-args", self.model_args), ("--base-model-args", self.base_model_args),
                            ("--tuned-model-args", self.tuned_model_args)):
            keys = [kv.split("=", 1)[0].strip() for kv in (args or "").split(",") if kv.strip()]
            bad = {"pretrained", "peft", "lora_local_path"} & set(keys)
            if bad:
                raise ConjError(f"{label} must not set {', '.join(sorted(bad))}: use --base/--tuned/--tuned-adapter")
        if self.limit is not None and self.limit <= 0:
            raise ConjError("--limit must be positive")
        given: object = self.tasks
        self.tasks = [given] if isinstance(given, str) else list(self.tasks)  # a lone name from Python callers
        judge = self.judge_spec()  # validates the name, and that a classifier has a model
        self.judge, self.judge_model, self.judge_translator = judge.name, judge.model, judge.translator

    def judge_spec(self) -> JudgeSpec:
        return JudgeSpec.from_metadata({"judge": self.judge, "judge_model": self.judge_model,
                                        "judge_translator": self.judge_translator} if self.judge else
                                       {"judge_translator": self.judge_translator} if self.judge_translator else None)

    def model(self, role: str) -> str:
        return self.base if role == "base" else self.tuned  # type: ignore[return-value]

    def adapter(self, role: str) -> str | None:
        return self.tuned_adapter if role == "tuned" else None

    def chat_template(self, role: str) -> bool:
        return self.base_chat_template if role == "base" else self.tuned_chat_template

    def lm_eval_model_args(self, role: str) -> str:
        """The ``--model_args`` string for one role: pretrained (+ adapter), shared args, then the role's own."""
        parts = [f"pretrained={self.model(role)}"]
        adapter = self.adapter(role)
        if adapter:
            parts += [f"peft={adapter}"] if self.backend == "hf" else [f"lora_local_path={adapter}", "enable_lora=True"]
        for extra in (self.model_args, self.base_model_args if role == "base" else self.tuned_model_args):
            parts += [kv.strip() for kv in (extra or "").split(",") if kv.strip()]
        return ",".join(parts)

    def identity(self, role: str) -> dict:
        """What makes one role's results what they are (batch size and device may change on a resume)."""
        return {
            "model": self.model(role), "adapter": self.adapter(role), "backend": self.backend,
            "model_args": self.lm_eval_model_args(role), "chat_template": self.chat_template(role),
            "limit": self.limit, "seed": self.seed, "gen_kwargs": self.gen_kwargs,
            "judge": self.judge_spec().identity(),
        }

    def label(self) -> str:
        tuned = self.tuned if not self.tuned_adapter else f"{self.tuned} + adapter {self.tuned_adapter}"
        return f"base {self.base} vs tuned {tuned}"


def normalize_model(name: str) -> str:
    """A local folder becomes an absolute path (so the same pair matches from any working directory)."""
    path = Path(os.path.expanduser(str(name)))
    return str(path.resolve()) if path.exists() else str(name)


def check_local_paths(spec: PairSpec) -> None:
    """A model or adapter written as a path (absolute, ./, ../, ~) must exist: fail before any model is loaded."""
    for flag, value in (("--base", spec.base), ("--tuned", spec.tuned), ("--tuned-adapter", spec.tuned_adapter)):
        if value and str(value).startswith(("/", "./", "../", "~")) and not Path(os.path.expanduser(value)).exists():
            raise ConjError(f"{flag} {value}: no such folder")



# --- several pairs ----------------------------------------------------------------------------------------------

PAIR_KEYS = set(PairSpec.__dataclass_fields__)


def _read_pairs_yaml(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[Any]]:
    """The file's ``defaults`` and its list of pairs (a bare list is the pairs, with no defaults)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConjError(f"cannot read pairs file {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ConjError(f"pairs file {path} is not UTF-8 text (byte {e.start})") from None
    except yaml.YAMLError as e:
        raise ConjError(f"pairs file {path} is not valid YAML: {str(e).splitlines()[0]}") from None
    file_defaults: dict[str, Any] = {}
    if isinstance(data, dict):
        file_defaults = data.get("defaults") or {}
        extra = set(data) - {"defaults", "pairs"}
        if extra:
            raise ConjError(f"pairs file {path}: unknown top-level keys {sorted(extra)} (use 'defaults' and 'pairs')")
        data = data.get("pairs")
    if not isinstance(data, list) or not data:
        raise ConjError(f"pairs file {path}: expected a non-empty list of pairs (each with name, base, tuned)")
    return file_defaults, data


def _normalize_pair(merged: dict[str, Any], where: str) -> dict[str, Any]:
    """Check a pair's keys and coerce YAML's types (a lone task, numbers given for strings)."""
    unknown = set(merged) - PAIR_KEYS
    if unknown:
        raise ConjError(f"{where} has unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(PAIR_KEYS))}")
    if isinstance(merged.get("tasks"), str):
        merged["tasks"] = [merged["tasks"]]
    if merged.get("limit") is not None:
        try:
            merged["limit"] = float(merged["limit"])
        except (TypeError, ValueError):
            raise ConjError(f"{where}: limit {merged['limit']!r} is not a number") from None
    for key in ("seed", "batch_size"):
        if merged.get(key) is not None:
            merged[key] = str(merged[key])
    return merged


def load_pairs_file(path: str | os.PathLike[str], defaults: dict[str, Any]) -> list[PairSpec]:
    """Read ``pairs.yaml``: a list of pairs, or ``{defaults: {...}, pairs: [...]}``; keys as in :class:`PairSpec`.

    Command-line flags act as defaults; the file's ``defaults`` override them and each pair overrides both.
    """
    file_defaults, items = _read_pairs_yaml(path)
    specs: list[PairSpec] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConjError(f"pairs file {path}: pair {i + 1} is not a mapping")
        merged = {**{k: v for k, v in defaults.items() if v is not None}, **file_defaults, **item}
        merged = _normalize_pair({k.replace("-", "_"): v for k, v in merged.items()},
                                 f"pairs file {path}: pair {i + 1}")
        name = str(merged.get("name") or "")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ConjError(f"pairs file {path}: pair {i + 1} needs a 'name' usable as a folder name (got {name!r})")
        if name in names:
            raise ConjError(f"pairs file {path}: pair name {name!r} is used twice")
        names.add(name)
        if not merged.get("tasks"):
            raise ConjError(f"pairs file {path}: pair {name!r} has no tasks "
                            "(set them in the pair, defaults or --tasks)")
        specs.append(PairSpec(**merged))
    return specs
