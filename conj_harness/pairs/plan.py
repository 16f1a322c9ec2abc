"""A study's plan, made once by the parent: the distinct model runs of one pair or many, each with its units.

A unit is one (role, task) of one pair. Two units are the same run when the role's identity (model, adapter,
backend and model args, chat template, BOS, limit, seed, decoding, judge), the task's fingerprint (its rendered
config and documents) and, for a served model, the server are the same: then it is planned once, and its result
is committed into every pair that needs it (a base shared by K pairs runs each task once, not K times). The units
left are grouped into :class:`ModelRun` s, one model load each (both roles of a pair whose tuned model is the base
plus a LoRA adapter share one load, as with the local executor). An executor receives the plan and does not resolve
anything again: the tasks were resolved, built and fingerprinted by :func:`conj_harness.pairs.runner.check_pair`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conj_harness.pairs.spec import ROLES, PairSpec
from conj_harness.pairs.store import PairStore
from conj_harness.pairs.workers import adapter_mode, worker_job

if TYPE_CHECKING:
    from conj_harness.lmeval.preflight import TaskFingerprint

__all__ = ["ModelRun", "PlannedPair", "StudyPlan", "Target", "make_plan"]


@dataclass
class PlannedPair:
    """One pair of the study: its spec, its folder, its checked tasks, and its units left to run."""

    spec: PairSpec
    store: PairStore
    tasks: list[str]
    fingerprints: dict[str, TaskFingerprint]
    label: str = ""
    pending: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True)
class Target:
    """Where a run's unit is committed: a pair's folder, as one of its roles."""

    pair: PlannedPair
    role: str


@dataclass
class ModelRun:
    """One model load and the units it runs; ``targets[(role, task)]``: every pair unit its result goes to."""

    key: str
    owner: PlannedPair
    roles: list[str]
    units: list[tuple[str, str]] = field(default_factory=list)
    targets: dict[tuple[str, str], list[Target]] = field(default_factory=dict)

    @property
    def spec(self) -> PairSpec:
        return self.owner.spec

    @property
    def label(self) -> str:
        """``pair role+role`` (the pair that first named the model)."""
        return f"{self.owner.label} {'+'.join(self.roles)}"

    def model_label(self) -> str:
        spec = self.spec
        shown = spec.model(self.roles[0])
        adapter = next((spec.adapter(r) for r in self.roles if spec.adapter(r)), None)
        return f"{shown} (+ adapter {adapter})" if adapter and len(self.roles) == 1 else shown

    def job(self, scratch: Path) -> dict[str, Any]:
        """The worker job of this run (:mod:`conj_harness.lmeval.worker`), its roles' tasks filled in."""
        job = worker_job(self.spec, self.owner.store, self.roles, scratch)
        for entry in job["roles"]:
            entry["tasks"] = [t for r, t in self.units if r == entry["role"]]
        return job


@dataclass
class StudyPlan:
    pairs: list[PlannedPair]
    runs: list[ModelRun]

    @property
    def shared(self) -> int:
        """Pair units that another pair's run covers (committed from it, not run again)."""
        return sum(len(t) - 1 for run in self.runs for t in run.targets.values())


def unit_key(spec: PairSpec, role: str, fingerprint: TaskFingerprint | None, task: str) -> str:
    """What makes two pairs' units one run (see the module docstring)."""
    record = {"identity": spec.identity(role), "server": spec.server(role), "task": task,
              "fingerprint": fingerprint.record() if fingerprint is not None else None,
              "include_path": spec.include_path}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def make_plan(pairs: list[PlannedPair]) -> StudyPlan:
    """The distinct runs of the pairs' pending units, each unit once (the first pair naming it runs it)."""
    seen: dict[str, tuple[ModelRun, str]] = {}
    runs: list[ModelRun] = []
    for pair in pairs:
        spec = pair.spec
        groups = [list(ROLES)] if adapter_mode(spec) else [[r] for r in ROLES]
        for roles in groups:
            run = ModelRun(key="", owner=pair, roles=roles)
            for role, task in pair.pending:
                if role not in roles:
                    continue
                key = unit_key(spec, role, pair.fingerprints.get(task), task)
                if key in seen:
                    other, other_role = seen[key]
                    other.targets[(other_role, task)].append(Target(pair, role))
                    continue
                seen[key] = (run, role)
                run.units.append((role, task))
                run.targets[(role, task)] = [Target(pair, role)]
            if run.units:
                run.key = hashlib.sha256(json.dumps([spec.identity(r) for r in roles], sort_keys=True,
                                                    default=str).encode()).hexdigest()[:12]
                runs.append(run)
    return StudyPlan(pairs, runs)
