"""The worker protocol: what a model worker (:mod:`conj_harness.lmeval.worker`) and the compare that started it
(:mod:`conj_harness.pairs.workers`) say to each other - one module both ends import.

The worker writes one line per :class:`Event` to stdout (``@@conj {json}``, between lm-eval's own output); the
parent answers each ``next`` event with one :class:`TaskReply` line on the worker's stdin.

===========  ====================================================================================================
event        fields
===========  ====================================================================================================
ready        the gate (a worker started early): the slow imports are done; it waits for one stdin line to load
loaded       roles the model serves, seconds (one per model load: what the benchmarks count)
plan         role, requests per task (the parent's progress bar and ETA over all the model's tasks), note
next         role: the worker waits for one stdin line ``{"task": NAME}``, or ``{"task": null}`` for the next role
done         role, task, output (the task's --output_path), seconds
failed       role, task, error (lm-eval's reason); the worker goes on with the next task
role_failed  role, error: its adapter would not attach; the parent fails the role's remaining tasks
fatal        error: nothing could run (a bad model folder, missing data) - before the model loads
===========  ====================================================================================================
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast, get_args

__all__ = ["GO", "MARKER", "Event", "EventKind", "TaskReply", "decode", "encode", "is_event_line"]

#: The prefix that tells an event line from lm-eval's output.
MARKER = "@@conj "
#: The parent's line that lets a gated worker (one that said ``ready``) load its model.
GO = json.dumps({"go": True})

EventKind = Literal["ready", "loaded", "plan", "next", "done", "failed", "role_failed", "fatal"]
_KINDS = frozenset(get_args(EventKind))


@dataclass(frozen=True)
class Event:
    """One message from a worker; the fields each kind carries are in the module docstring."""

    kind: EventKind
    role: str = ""
    task: str | None = None
    roles: tuple[str, ...] = ()
    seconds: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)
    output: str | None = None
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class TaskReply:
    """The parent's answer to ``next``: the task to run, or None (this role has no more)."""

    task: str | None


def encode(event: Event) -> str:
    """The event's line (without the newline): the marker and its fields as JSON, empty fields left out."""
    fields = {k: v for k, v in asdict(event).items() if k != "kind" and v not in (None, "", (), {}, 0.0)}
    return MARKER + json.dumps({"event": event.kind, **fields})


def is_event_line(line: str) -> bool:
    return line.startswith(MARKER)


def decode(line: str) -> Event | None:
    """The event on ``line``, or None when it is not a well-formed event (any other output of the worker)."""
    if not line.startswith(MARKER):
        return None
    try:
        raw: Any = json.loads(line[len(MARKER):])
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("event") not in _KINDS:
        return None
    try:
        return Event(kind=cast(EventKind, raw["event"]), role=str(raw.get("role") or ""),
                     task=None if raw.get("task") is None else str(raw["task"]),
                     roles=tuple(str(r) for r in raw.get("roles") or ()),
                     seconds=float(raw.get("seconds") or 0.0),
                     requests={str(k): int(v) for k, v in (raw.get("requests") or {}).items()},
                     output=None if raw.get("output") is None else str(raw["output"]),
                     error=None if raw.get("error") is None else str(raw["error"]),
                     note=None if raw.get("note") is None else str(raw["note"]))
    except (TypeError, ValueError, AttributeError):
        return None


def encode_reply(reply: TaskReply) -> str:
    return json.dumps({"task": reply.task})


def decode_reply(line: str) -> TaskReply:
    """The parent's reply line; a line that is not one is read as "no more tasks" (never a crash mid-run)."""
    try:
        raw: Any = json.loads(line)
    except ValueError:
        return TaskReply(None)
    task = raw.get("task") if isinstance(raw, dict) else None
    return TaskReply(str(task) if task else None)
