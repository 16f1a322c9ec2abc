"""What defines a comparison: :class:`PairSpec` (both models, the tasks, and the settings they share) and
``pairs.yaml`` files of several pairs.

Both models get the same tasks, limit, seed and decoding; only the model, adapter, per-role model args and the
chat-template switch differ. :meth:`PairSpec.identity` is what a role's results depend on: the store compares it
on resume and refuses, or with ``--force`` replaces, results made under another identity.

The backend is any model type lm-eval registers, read through one table (:mod:`conj_harness.lmeval.backends`):
``hf`` and ``vllm`` (and their aliases) load the models here (``base``/``tuned`` are folders or hub ids, an adapter
is possible); other in-process engines (``sglang``, ``openvino``, ...) get their model argument; clients
(``local-completions``, ``local-chat-completions``, ...) get ``model=<name>`` and, for servers, ``base_url`` from
``--base-url``/``--tuned-url``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conj_harness.checkpoints import bos
from conj_harness.checkpoints.bos import BosChoice
from conj_harness.errors import ConjError
from conj_harness.files import redact
from conj_harness.judge.registry import JudgeSpec
from conj_harness.lmeval import backends
from conj_harness.lmeval.backends import Backend

ROLES = ("base", "tuned")
DEFAULT_SEED = "0,1234,1234,1234"
#: Served-model settings that change how requests travel, not what the model answers: not part of the identity
#: (a server that moved, or more concurrency, keeps the results), and credentials never reach pair.json.
#: A served model's per-request time-out (lm-eval's client waits 300 s, times its 3 retries: a hung server cost 15
#: minutes per task). A long generation on a loaded server may need more: ``timeout=`` in the model args overrides.
DEFAULT_TIMEOUT_S = 60
TRANSPORT_KEYS = frozenset({"base_url", "num_concurrent", "max_retries", "timeout", "verify_certificate",
                            "ca_cert_path", "auth_token", "header"})


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
    #: Served backends: the base and the tuned model's server (else ``base_url`` in the model args, or lm-eval's
    #: default for the type).
    base_url: str | None = None
    tuned_url: str | None = None

    def __post_init__(self) -> None:
        self._check_types()
        check_backend(self.backend)
        if not self.base:
            raise ConjError("--base is required")
        if not self.tuned and not self.tuned_adapter:
            raise ConjError("give --tuned <model>, or --tuned-adapter <path> (the tuned model is then base + adapter)")
        if not self.tuned:
            self.tuned = self.base
        self._check_models()
        given: object = self.tasks
        self.tasks = [given] if isinstance(given, str) else list(self.tasks)  # a lone name from Python callers
        self.seed = check_seed(self.seed)
        check_gen_kwargs(self.gen_kwargs)
        check_batch_size(self.batch_size)
        judge = self.judge_spec()  # validates the name, and that a classifier has a model
        self.judge, self.judge_model, self.judge_translator = judge.name, judge.model, judge.translator

    def _check_types(self) -> None:
        """Each setting's type and range, in one line naming it (a script's PairSpec(limit="10") or tasks=[1])."""
        for key in ("base", "tuned", "tuned_adapter", "backend", "model_args", "base_model_args", "tuned_model_args",
                    "device", "gen_kwargs", "include_path", "name", "judge", "judge_model", "judge_translator",
                    "base_url", "tuned_url"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                raise ConjError(f"{key} {value!r}: expected text (a str), not {type(value).__name__}")
        for key in ("base_chat_template", "tuned_chat_template"):
            if not isinstance(getattr(self, key), bool):
                raise ConjError(f"{key} {getattr(self, key)!r}: expected True or False")
        tasks: object = self.tasks
        if not isinstance(tasks, str) and (not isinstance(tasks, (list, tuple)) or
                                           not all(isinstance(t, str) for t in tasks)):
            raise ConjError(f"tasks {tasks!r}: expected task names (a list of str, or one str)")
        limit: object = self.limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0):
            raise ConjError(f"--limit {limit!r}: give a positive number of documents (or a fraction below 1)")
        seed: object = self.seed
        if isinstance(seed, int) and not isinstance(seed, bool):  # a script's PairSpec(seed=1)
            self.seed = str(seed)
        batch: object = self.batch_size
        if isinstance(batch, int) and not isinstance(batch, bool):
            self.batch_size = str(batch)

    def _check_models(self) -> None:
        """Local models: absolute paths; served ones: names as the server knows them, no adapter; args not twice."""
        if self.tuned_adapter and self.engine.adapter_key is None:
            raise ConjError(f"--tuned-adapter needs a backend that attaches a LoRA adapter here (hf or vllm), not "
                            f"{self.backend}: serve the adapter with the model (e.g. `vllm serve ... "
                            "--enable-lora --lora-modules tuned=DIR`) and give its name as --tuned")
        if not self.served:
            self.base, self.tuned = normalize_model(self.base), normalize_model(str(self.tuned))
            if self.tuned_adapter:
                self.tuned_adapter = normalize_model(self.tuned_adapter)
            if self.base_url or self.tuned_url:
                raise ConjError(f"--base-url/--tuned-url are for served models; the {self.backend} backend loads "
                                "the models here")
        forbidden = {"model", "pretrained"} if self.served else {"pretrained", "peft", "lora_local_path"}
        for label, args in (("--model-args", self.model_args), ("--base-model-args", self.base_model_args),
                            ("--tuned-model-args", self.tuned_model_args)):
            keys = [kv.split("=", 1)[0].strip() for kv in (args or "").split(",") if kv.strip()]
            bad = forbidden & set(keys)
            if bad:
                raise ConjError(f"{label} must not set {', '.join(sorted(bad))}: use --base/--tuned"
                                + ("" if self.served else "/--tuned-adapter"))
        for role in ROLES:
            if self._url(role) and "base_url" in self._role_keys(role):
                raise ConjError(f"the {role} model's server is given twice (--{role}-url and base_url in the model "
                                "args): keep one")

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

    @property
    def engine(self) -> Backend:
        """The backend's entry in the one table of lm-eval model types (:mod:`conj_harness.lmeval.backends`)."""
        from conj_harness.lmeval import compat

        return backends.backend(self.backend, compat.model_types)

    @property
    def served(self) -> bool:
        """The models are reached through lm-eval's client for a server or an API, not loaded here."""
        return self.engine.served

    def default_batch_size(self) -> str:
        return self.batch_size or self.engine.default_batch

    def _url(self, role: str) -> str | None:
        return self.base_url if role == "base" else self.tuned_url

    def server(self, role: str) -> str | None:
        """A served role's address, from ``--<role>-url`` or ``base_url=`` in its model args (None: local, or
        lm-eval's default): two pairs' runs of one served model are one run only at one address (the identity
        leaves the address out, so that a moved server keeps its results)."""
        if not self.served:
            return None
        given = [kv.split("=", 1)[1].strip() for kv in self._role_args(role)
                 if "=" in kv and kv.split("=", 1)[0].strip() == "base_url"]
        return self._url(role) or (given[-1] if given else None)

    def _role_args(self, role: str) -> list[str]:
        parts: list[str] = []
        for extra in (self.model_args, self.base_model_args if role == "base" else self.tuned_model_args):
            parts += [kv.strip() for kv in (extra or "").split(",") if kv.strip()]
        return parts

    def _role_keys(self, role: str) -> set[str]:
        return {kv.split("=", 1)[0].strip() for kv in self._role_args(role)}

    def lm_eval_model_args(self, role: str, with_adapter: bool = True) -> str:
        """The ``--model_args`` string for one role: the model (+ adapter, + server), shared args, the role's own.

        ``with_adapter=False``: the tuned role's model without its adapter - the engine a worker loads once for
        both roles, attaching the adapter per role (vLLM: LoRA enabled, its rank allowed).
        """
        if self.served:
            parts = [f"{self.engine.model_key}={self.model(role)}"]
            url = self._url(role)
            parts += [f"base_url={url}"] if url else []
            parts += [] if "timeout" in self._role_keys(role) else [f"timeout={DEFAULT_TIMEOUT_S}"]
            return ",".join(parts + self._role_args(role))
        parts = [f"{self.engine.model_key}={self.model(role)}"]
        adapter = self.adapter(role) if with_adapter else None
        if adapter:
            parts += [f"{self.engine.adapter_key}={adapter}"]
        if self.engine.engine == "vllm" and self.tuned_adapter and (adapter or not with_adapter):
            parts += ["enable_lora=True"]
            rank = lora_rank(self.tuned_adapter)
            if rank and rank > 16 and "max_lora_rank" not in self._role_keys(role):
                parts += [f"max_lora_rank={rank}"]  # vLLM's default allows rank 16 at most
        return ",".join(parts + self._role_args(role))

    def identity(self, role: str) -> dict:
        """What makes one role's results what they are (batch size, device and a server's address may change)."""
        args = [kv for kv in self.lm_eval_model_args(role).split(",")
                if kv.split("=", 1)[0].strip() not in TRANSPORT_KEYS and not redact.is_secret_key(kv.split("=", 1)[0])]
        return {
            "model": self.model(role), "adapter": self.adapter(role), "backend": self.backend,
            "model_args": ",".join(args), "chat_template": self.chat_template(role),
            "limit": self.limit, "seed": self.seed, "gen_kwargs": self.gen_kwargs,
            "judge": self.judge_spec().identity(),
            **({"add_bos_token": self.bos_choice(role).add_bos_token} if not self.served else {}),
        }

    def bos_choice(self, role: str) -> BosChoice:
        """The BOS policy's choice for one role's model (:mod:`conj_harness.checkpoints.bos`); the worker's
        ``conj-eval`` preparation makes the same choice from the same files, and it is part of the identity."""
        args = dict(kv.split("=", 1) for kv in self.lm_eval_model_args(role, with_adapter=False).split(",")
                    if "=" in kv)
        return bos.decide(args)

    def recorded_model_args(self, role: str) -> str:
        """The model args as written to ``pair.json``: credentials (and those inside addresses) replaced by ``***``."""
        return redact.redact_args(self.lm_eval_model_args(role))

    def secrets(self) -> frozenset[str]:
        """The credential values in the model args, the servers' addresses and the environment the clients read
        (:mod:`conj_harness.files.redact`): never written or printed anywhere."""
        return redact.secret_values([self.model_args, self.base_model_args, self.tuned_model_args, self.base_url,
                                     self.tuned_url]) | redact.secrets_in_env()

    def label(self) -> str:
        tuned = self.tuned if not self.tuned_adapter else f"{self.tuned} + adapter {self.tuned_adapter}"
        return f"base {self.base} vs tuned {tuned}"


def check_backend(backend: str) -> None:
    """``hf``, ``vllm`` or any model type lm-eval registers (:mod:`conj_harness.lmeval.backends`); an unknown name
    lists them."""
    from conj_harness.lmeval import compat

    backends.backend(backend, compat.model_types)


#: lm-eval's generation settings with the type each must have (others pass through to the backend unchecked).
GEN_KWARG_TYPES: dict[str, type] = {"max_gen_toks": int, "max_new_tokens": int, "min_tokens": int, "top_k": int,
                                    "num_beams": int, "seed": int, "temperature": float, "top_p": float,
                                    "min_p": float, "repetition_penalty": float, "do_sample": bool}


def check_seed(seed: object) -> str:
    """``--seed``: one whole number (all four of lm-eval's seeds), or four comma-separated (``None`` leaves one
    unset) - checked here, not when a worker has loaded its model."""
    text = str(seed)
    parts = [p.strip() for p in text.split(",")]
    if isinstance(seed, bool) or len(parts) not in (1, 4) or \
            not all(re.fullmatch(r"[+-]?\d+|[Nn]one", p) for p in parts):
        raise ConjError(f"--seed {seed!r}: give a whole number, or four comma-separated ones (python, numpy, torch, "
                        f"few-shot; None leaves one unset), e.g. {DEFAULT_SEED}")
    return text


def check_gen_kwargs(gen_kwargs: str | None) -> None:
    """``--gen-kwargs``: ``key=value`` pairs, the values of lm-eval's known settings of the right type."""
    for item in (gen_kwargs or "").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConjError(f"--gen-kwargs {item!r}: expected KEY=VALUE pairs, e.g. max_gen_toks=64,temperature=0")
        wanted = GEN_KWARG_TYPES.get(key)
        ok = True
        if wanted is int:
            ok = re.fullmatch(r"[+-]?\d+", value) is not None
        elif wanted is float:
            try:
                float(value)
            except ValueError:
                ok = False
        elif wanted is bool:
            ok = value.lower() in ("true", "false")
        if not ok:
            assert wanted is not None
            kind = {int: "a whole number", float: "a number", bool: "true or false"}[wanted]
            raise ConjError(f"--gen-kwargs {key}={value}: {key} takes {kind}")


def check_batch_size(batch_size: str | None) -> None:
    if batch_size is not None and not re.fullmatch(r"[1-9]\d*|auto(:[1-9]\d*)?", str(batch_size)):
        raise ConjError(f"--batch-size {batch_size!r}: give a positive whole number, auto or auto:N")


def lora_rank(adapter: str) -> int | None:
    """The rank ``r`` in a LoRA adapter's ``adapter_config.json`` (None when it cannot be read)."""
    import json

    try:
        value = json.loads((Path(adapter) / "adapter_config.json").read_text(encoding="utf-8")).get("r")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def normalize_model(name: str) -> str:
    """A local folder becomes an absolute path (so the same pair matches from any working directory)."""
    path = Path(os.path.expanduser(str(name)))
    return str(path.resolve()) if path.exists() else str(name)


def check_local_paths(spec: PairSpec) -> None:
    """A model or adapter written as a path (absolute, ./, ../, ~) must exist: fail before any model is loaded."""
    if spec.served:
        return  # the names are the server's
    for flag, value in (("--base", spec.base), ("--tuned", spec.tuned), ("--tuned-adapter", spec.tuned_adapter)):
        path = Path(os.path.expanduser(value)) if value else None
        if path is not None and path.is_file() and not (flag != "--tuned-adapter" and path.suffix == ".gguf"):
            what = "a LoRA adapter folder (with adapter_config.json)" if flag == "--tuned-adapter" else \
                "a model folder (with config.json), a Hugging Face id or a .gguf file"
            raise ConjError(f"{flag} {value} is a file, not {what}")
        if not value or Path(os.path.expanduser(value)).exists():
            continue
        if str(value).startswith(("/", "./", "../", "~")):
            raise ConjError(f"{flag} {value}: no such folder")
        _check_hub_id(flag, str(value))


def _check_hub_id(flag: str, name: str) -> None:
    """A name that is not a local path is a Hub id: in the local cache, or found on the Hub (a short request).
    Otherwise the worker would fail on it only after the other model ran - e.g. a relative folder mistyped."""
    import huggingface_hub
    from huggingface_hub.utils import HFValidationError

    try:
        if huggingface_hub.try_to_load_from_cache(name, "config.json") is not None or \
                huggingface_hub.try_to_load_from_cache(name, "adapter_config.json") is not None:
            return
    except HFValidationError:
        raise ConjError(f"{flag} {name}: no such folder here, and not a Hugging Face model id") from None
    try:
        huggingface_hub.model_info(name, timeout=10)
    except huggingface_hub.errors.RepositoryNotFoundError:
        raise ConjError(f"{flag} {name}: no such folder here, and no such model on the Hugging Face Hub") from None
    except Exception as e:  # noqa: BLE001 - offline mode, no network, a proxy: the model cannot be fetched
        raise ConjError(f"{flag} {name}: no such folder here, not in the Hugging Face cache, and the Hub cannot be "
                        f"reached ({type(e).__name__}): give the model's folder, or download it first with "
                        f"`hf download {name}`") from None



# --- several pairs ----------------------------------------------------------------------------------------------

PAIR_KEYS = set(PairSpec.__dataclass_fields__)


#: A pairs file's top-level keys that say where the study runs (not part of any pair's identity).
STUDY_KEYS = ("executor", "ray")
RAY_KEYS = ("address", "gpus_per_model", "cpus_per_model")


def study_settings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A pairs file's ``executor:`` (local or ray) and ``ray: {address, gpus_per_model, cpus_per_model}``."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # load_pairs_file said why already
    if not isinstance(data, dict):
        return {}
    ray = data.get("ray") or {}
    if not isinstance(ray, dict) or set(ray) - set(RAY_KEYS):
        raise ConjError(f"pairs file {path}: 'ray' takes {', '.join(RAY_KEYS)}")
    return {"executor": data.get("executor"), "ray": ray}


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
        extra = set(data) - {"defaults", "pairs", *STUDY_KEYS}
        if extra:
            raise ConjError(f"pairs file {path}: unknown top-level keys {sorted(extra)} (use 'defaults', 'pairs', "
                            "'executor' and 'ray')")
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
    text_keys = {"seed", "batch_size", "name", "device", "base", "tuned", "tuned_adapter", "model_args",
                 "base_model_args", "tuned_model_args", "gen_kwargs", "judge", "judge_model", "judge_translator"}
    for key in text_keys:  # YAML reads `name: 2024` or `device: 0` as numbers
        value = merged.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = str(value)
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
