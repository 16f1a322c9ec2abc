"""Secrets kept out of every file the project writes and every line it prints: the one redaction for all of them.

A served model's credentials reach us in several shapes: model arguments (``auth_token=...``, ``api_key=...``,
``header=...``), an address (``http://user:PASS@host/...``, ``...?key=...``), the environment (``OPENAI_API_KEY``,
which lm-eval's OpenAI-style clients send as ``Authorization: Bearer ...``), and whatever a server echoes back in an
error (its request headers). They must work in memory - the worker sends them - but never be written or shown: not
in ``pair.json``, not in the ``results.json`` lm-eval fills with its model args, not in a command line kept for a
resume, not in a copied log, not on the terminal.

Two nets, because a secret can arrive in a shape nobody foresaw:

* by **value**: the secrets this run was given (:func:`secret_values`, :func:`secrets_in_argv`,
  :func:`secrets_in_env`), masked wherever they appear;
* by **structure**: a URL's userinfo and its credential-like query parameters (``key``, ``token``, ``sig``, ...);
  ``key=value`` with a credential key; a quoted ``"key": "value"`` pair (a dict or JSON) with a credential or
  authorization-header key, the whole value; ``Authorization: <scheme> <token>`` and ``Bearer <token>`` anywhere.

Ordinary words stay readable: ``header: invalid header length`` and ``token: <unk>`` are prose, not credentials.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Model-argument names whose values are credentials (lm-eval's API models and common client options).
SECRET_KEYS = frozenset({"auth_token", "api_key", "token", "hf_token", "access_token", "header", "headers",
                         "authorization", "password", "secret", "api_secret"})
#: HTTP headers that carry credentials (their whole value is masked).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "x-auth-token",
                            "cookie", "set-cookie"})
#: Environment variables whose values are credentials a client may send (lm-eval's OpenAI clients, the Hub).
SECRET_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TOGETHER_API_KEY",
              "DEEPSEEK_API_KEY", "AZURE_OPENAI_API_KEY")
MASK = "***"
#: A secret this short would mask ordinary text (a value of "1" or "on"); it is masked by structure only.
_MIN_VALUE_LEN = 6
#: Query parameter names that carry credentials: api keys, tokens, signatures (S3/Azure SAS), passwords.
_QUERY_SECRET = re.compile(r"(?i)^(?:.*[_-])?(?:api[_-]?key|apikey|key|token|access[_-]?token|secret|signature|sig|"
                           r"password|passwd|pwd|auth|credential|session)$")
#: A URL in text, up to a space, a quote or a comma (model args separate their values with commas).
_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>`,]+""")
_KEYS = "|".join(sorted(SECRET_KEYS, key=len, reverse=True))
_HEADERS = "|".join(re.escape(h) for h in sorted(SECRET_HEADERS, key=len, reverse=True))
#: ``key=value`` (model-argument syntax, a query string), the value up to a separator.
_KEY_EQUALS = re.compile(r"""(?i)(?<![\w-])(""" + _KEYS + r""")(\s*=\s*)(["']?)([^,\s"'}\])&;\\]+)""")
#: ``"key": "value"`` / ``'key': 'value'`` (a dict's repr, JSON): the whole quoted value.
_QUOTED_PAIR = re.compile(r"""(?i)(["'])(""" + _KEYS + "|" + _HEADERS + r""")\1(\s*:\s*)(["'])((?:\\.|(?!\4).)*)\4""")
#: ``Authorization: Bearer xyz`` (a header line, or one quoted in prose): the scheme and the token.
_HEADER_LINE = re.compile(r"""(?i)(?<![\w-])(""" + _HEADERS + r""")(\s*:\s*)(?!["'])((?:(?:bearer|basic|token|digest)"""
                          r"""\s+)?[^\s,;'"}\]\\]+)""")
_BEARER = re.compile(r"(?i)(?<![\w-])(bearer)(\s+)([A-Za-z0-9\-._~+/]+=*)")


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower() in SECRET_KEYS


def _long(values: Iterable[str]) -> set[str]:
    return {v.strip() for v in values if v and len(v.strip()) >= _MIN_VALUE_LEN}


def url_secrets(url: str) -> set[str]:
    """The credential values inside one URL: its userinfo's password (or lone user) and credential query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    found = {parts.password or parts.username or ""}
    found |= {v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _QUERY_SECRET.match(k)}
    return _long(found)


def secret_values(model_args: Iterable[str | None]) -> frozenset[str]:
    """The credential values in comma-separated model-argument strings (``a=1,auth_token=X`` -> ``{"X"}``),
    including those inside any URL among them (``base_url=http://u:P@h/?key=K`` -> ``{"P", "K"}``)."""
    found: set[str] = set()
    for args in model_args:
        for kv in str(args or "").split(","):
            key, sep, value = kv.partition("=")
            if sep and is_secret_key(key):
                found |= _long([value])
        for url in _URL.findall(str(args or "")):
            found |= url_secrets(url)
    return frozenset(found)


def secrets_in_argv(argv: Iterable[str]) -> frozenset[str]:
    """The credential values in a command line: model-argument strings and URLs, wherever they are given."""
    return secret_values(argv)


def secrets_in_env(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The credential values of :data:`SECRET_ENV` set in ``env`` (default: this process's environment)."""
    source: Mapping[str, str] = os.environ if env is None else env
    return frozenset(_long(source.get(name, "") for name in SECRET_ENV))


def redact_url(url: str) -> str:
    """``url`` with its userinfo and its credential-like query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_QUERY_SECRET.match(k) for k, _ in pairs):
            query = urlencode([(k, MASK if _QUERY_SECRET.match(k) else v) for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_args(args: str) -> str:
    """Comma-separated model args with each credential's value replaced by ``***`` (and URLs cleaned)."""
    return ",".join(f"{kv.split('=', 1)[0]}={MASK}" if "=" in kv and is_secret_key(kv.split("=", 1)[0])
                    else _URL.sub(lambda m: redact_url(m[0]), kv) for kv in str(args).split(","))


def redact_text(text: str, values: Collection[str] = (), keys: bool = True) -> str:
    """``text`` with every known secret value masked and (``keys``) every credential found by its structure: URLs
    cleaned, credential keys and headers masked (see the module docstring)."""
    for value in sorted(values, key=len, reverse=True):
        if value and value in text:
            text = text.replace(value, MASK)
    if not keys:
        return text
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m[0]), text)
    text = _QUOTED_PAIR.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MASK}{m[4]}", text)
    text = _KEY_EQUALS.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{MASK}", text)
    text = _HEADER_LINE.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)


def redact(obj: Any, values: Collection[str] = ()) -> Any:
    """A copy of a JSON-like object with credentials masked: under secret keys, and inside every string."""
    if isinstance(obj, dict):
        return {k: (MASK if _is_secret_field(k) and v not in (None, "") else redact(v, values))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v, values) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj, values)
    return obj


def _is_secret_field(key: object) -> bool:
    return is_secret_key(key) or (isinstance(key, str) and key.strip().lower() in SECRET_HEADERS)


def redact_bytes(data: bytes, values: Collection[str] = (), keys: bool = True) -> bytes:
    """Bytes (a log; samples with ``keys=False``, so a model's own text is never altered by a pattern) with the
    known secret values masked; unchanged when clean."""
    if not values and not keys:
        return data
    text = data.decode("utf-8", "surrogateescape")
    clean = redact_text(text, values, keys)
    return data if clean == text else clean.encode("utf-8", "surrogateescape")


#: Secrets this process learned after its streams were wrapped (a pairs file's model args): masked on output too.
_LEARNED: set[str] = set()


def remember(values: Iterable[str]) -> None:
    """Add secrets found after start-up (in a file the command read) to what :class:`RedactingStream` masks."""
    _LEARNED.update(_long(values))


class RedactingStream:
    """A text stream (stdout, stderr) that masks credentials in everything written to it: every line a command
    prints - its own, lm-eval's log records, a library's warning - passes through :func:`redact_text`."""

    def __init__(self, stream: TextIO, values: Collection[str]) -> None:
        self._stream, self._values = stream, frozenset(values)

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text, self._values | _LEARNED))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer...
        return getattr(self._stream, name)


def data_stdout() -> TextIO:
    """Standard output for data a command emits (judged responses, translations): the stream beneath the
    :class:`RedactingStream`, so a model's or a user's text is never rewritten by a pattern."""
    stream = sys.stdout
    return stream._stream if isinstance(stream, RedactingStream) else stream


def redact_output(argv: Iterable[str]) -> None:
    """Route this process's stdout and stderr through :class:`RedactingStream`, with the secrets of its command line
    and environment (the commands call it first thing)."""
    values = secrets_in_argv(argv) | secrets_in_env()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream, values))
