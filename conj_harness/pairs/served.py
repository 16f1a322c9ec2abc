"""Served models checked before any worker starts: each role has a server address, and the server answers.

lm-eval's API clients find a missing address (``Invalid URL 'None'``), a dead or hung server (300 s read time-out
times 3 retries, per request) or a model the server does not have only once a worker sends its first request -
after the other model may have run in full. :func:`check_servers` asks each server's ``/models`` once, with a short
time-out, and turns each of those into one line before anything runs. :data:`DEFAULT_TIMEOUT_S` is the per-request
time-out a compare gives lm-eval's client unless ``timeout=`` is in the model args.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from conj_harness.errors import ConjError
from conj_harness.files import redact
from conj_harness.pairs.spec import DEFAULT_TIMEOUT_S, ROLES, PairSpec

__all__ = ["DEFAULT_TIMEOUT_S", "check_servers", "models_url", "server_url"]
#: How long the start-up check waits for a server's ``/models``.
PROBE_TIMEOUT_S = 10.0


def server_url(spec: PairSpec, role: str) -> str | None:
    """The address lm-eval's client will use for ``role``: --<role>-url, ``base_url=`` in the args, or its default."""
    given = dict(kv.split("=", 1) for kv in spec.lm_eval_model_args(role).split(",") if "=" in kv).get("base_url")
    if given:
        return given.strip()
    from conj_harness.lmeval import compat

    return compat.default_base_url(spec.backend)


def models_url(url: str) -> str:
    """``http://h:8000/v1/completions`` -> ``http://h:8000/v1/models`` (OpenAI-compatible servers list models there)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    for tail in ("/chat/completions", "/completions"):
        if path.endswith(tail):
            path = path[: -len(tail)]
            break
    host = parts.netloc.rsplit("@", 1)[-1]  # no userinfo: urllib cannot send it, and the list needs no login
    return urllib.parse.urlunsplit((parts.scheme, host, path + "/models", "", ""))


def check_servers(spec: PairSpec, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Each role's server address is set and answers; a model list that lacks the role's model is refused."""
    if not spec.served:
        return
    for role in ROLES:
        url = server_url(spec, role)
        if not url:
            raise ConjError(f"the {role} model needs its server's address for the {spec.backend} backend: "
                            f"--{role}-url http://HOST:PORT/v1/completions (or base_url= in the model args)")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ConjError(f"the {role} model's server address {redact.redact_url(url)!r} is not an http(s) URL")
        _probe(role, spec.model(role), url, timeout)


def _probe(role: str, model: str, url: str, timeout: float) -> None:
    probe = models_url(url)
    url, shown_probe = redact.redact_url(url), redact.redact_url(probe)  # the messages name them: no credentials
    try:
        with urllib.request.urlopen(probe, timeout=timeout) as reply:  # http(s) only: checked above
            body = reply.read(2_000_000)
    except urllib.error.HTTPError:
        return  # it answers (401 without a key, 404 without a model list): the requests will say the rest
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:  # ValueError: http.client's bad URL
        reason = getattr(e, "reason", e)
        raise ConjError(f"the {role} model's server at {url} does not answer ({shown_probe}: {reason}): start it, or "
                        f"check --{role}-url") from None
    try:
        served = [str(m.get("id")) for m in json.loads(body).get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return  # not an OpenAI-style list: nothing more to check here
    if served and model not in served:
        raise ConjError(f"the {role} model's server at {url} serves {', '.join(served[:10])}, not {model!r}: "
                        f"give one of those as --{role}")
