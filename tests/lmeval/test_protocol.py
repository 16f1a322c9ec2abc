"""The worker protocol (lmeval.protocol): every event survives its line, and nothing else is read as one."""

from __future__ import annotations

import pytest

from conj_harness.lmeval import protocol
from conj_harness.lmeval.protocol import Event, TaskReply


@pytest.mark.parametrize("event", [
    Event("ready"),
    Event("loaded", roles=("base", "tuned"), seconds=12.5),
    Event("plan", role="base", requests={"conj_icl_en": 400}, note="a task did not build"),
    Event("next", role="tuned"),
    Event("done", role="base", task="conj_icl_en", output="/tmp/x/out", seconds=3.2),
    Event("failed", role="base", task="conj_icl_en", error="KeyError: 'x'"),
    Event("role_failed", role="tuned", error="adapter does not fit"),
    Event("fatal", error="no such model"),
])
def test_events_round_trip(event):
    line = protocol.encode(event)
    assert protocol.is_event_line(line) and "\n" not in line
    assert protocol.decode(line) == event


@pytest.mark.parametrize("line", [
    "Running generate_until requests: 10%", "@@conj not json", '@@conj ["a list"]', '@@conj {"event": "nope"}',
    '@@conj {"event": "plan", "requests": {"t": "many"}}', '{"event": "done"}',
])
def test_other_output_is_not_an_event(line):
    assert protocol.decode(line) is None


def test_replies():
    assert protocol.decode_reply(protocol.encode_reply(TaskReply("conj_icl_en"))) == TaskReply("conj_icl_en")
    assert protocol.decode_reply(protocol.encode_reply(TaskReply(None))) == TaskReply(None)
    assert protocol.decode_reply("garbage") == TaskReply(None)
    assert protocol.decode_reply(protocol.GO) == TaskReply(None)
