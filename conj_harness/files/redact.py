"""Secrets kept out of every file the project writes: the one redaction the store, the logs and ``pair.json`` use.

A served model's credentials reach us as model arguments (``auth_token=...``, ``api_key=...``, ``header=...``).
They must work in memory - the worker sends them to the server - but never be written: not in ``pair.json``, not
in the ``results.json`` lm-eval fills with its model args (``config.model_args`` and each task's metadata), not in
a command line kept for a resume (``launches.jsonl``, ``failed.json``), not in a copied log. Two nets, because a
secret can arrive in a shape we did not foresee: by *key* (a dict key or ``key=value`` in a string, whatever the
value) and by *value* (the secrets this run was given, wherever they appear in any string).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

#: Model-argument names whose values are credentials (lm-eval's API models and common client options).
SECRET_KEYS = frozenset({"auth_token", "api_key", "token", "hf_token", "access_token", "header", "headers",
                         "authorization", "password", "secret", "api_secret"})
MASK = "***"
#: ``key=value`` / ``key: value`` / ``"key": "value"`` in free text, the value up to a separator.
_KEYS = "|".join(sorted(SECRET_KEYS, key=len, reverse=True))
_KEY_VALUE = re.compile(r"""(?i)(?<![A-Za-z0-9_])(["']?)(""" + _KEYS + r""")\1(\s*[=:]\s*)(["']?)([^,\s"'}\]]+)""")
#: A secret this short would mask ordinary text (a value of "1" or "on"); it is masked by key only.
_MIN_VALUE_LEN = 6


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower() in SECRET_KEYS


def secret_values(model_args: Iterable[str]) -> frozenset[str]:
    """The credential values in comma-separated model-argument strings (``a=1,auth_token=X`` -> ``{"X"}``)."""
    found = set()
    for args in model_args:
        for kv in str(args or "").split(","):
            key, sep, value = kv.partition("=")
            if sep and is_secret_key(key) and len(value.strip()) >= _MIN_VALUE_LEN:
                found.add(value.strip())
    return frozenset(found)


def redact_args(args: str) -> str:
    """Comma-separated model args with each credential's value replaced by ``***``."""
    return ",".join(f"{kv.split('=', 1)[0]}={MASK}" if "=" in kv and is_secret_key(kv.split("=", 1)[0]) else kv
                    for kv in str(args).split(","))


def redact_text(text: str, values: Collection[str] = (), keys: bool = True) -> str:
    """``text`` with every known secret value masked, and (``keys``) every ``secret_key=value``."""
    for value in values:
        if value and value in text:
            text = text.replace(value, MASK)
    return _KEY_VALUE.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MASK}", text) if keys else text


def redact(obj: Any, values: Collection[str] = ()) -> Any:
    """A copy of a JSON-like object with credentials masked: under secret keys, and inside every string."""
    if isinstance(obj, dict):
        return {k: (MASK if is_secret_key(k) and v not in (None, "") else redact(v, values)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v, values) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj, values)
    return obj


def redact_bytes(data: bytes, values: Collection[str] = (), keys: bool = True) -> bytes:
    """Bytes (a log; samples with ``keys=False``, so a model's own text is never altered by a pattern) with the
    known secret values masked; unchanged when clean."""
    if not values and not keys:
        return data
    text = data.decode("utf-8", "surrogateescape")
    clean = redact_text(text, values, keys)
    return data if clean == text else clean.encode("utf-8", "surrogateescape")
