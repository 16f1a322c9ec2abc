"""``conj-harness demo``: the project's main job on its own tiny model pair, offline, in a few minutes on a CPU.

The pair (``conj_harness/demo/model/``, rebuilt by ``python -m conj_harness.demo.train``) is a tiny "pretrained"
LM that does in-context learning in English, Leetspeak and Pig Latin, and an "instruction-tuned" copy tuned on
English instruction following only. The demo runs the real compare pipeline - lm-eval, the paper's ``conj_icl_*``
prompts, paired statistics, report and plots - and prints the table: the English drop against the conjugates'.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conj_harness.pairs.runner import PairOutcome

DEMO_TASKS = ("conj_icl_en", "conj_icl_leet", "conj_icl_piglatin")


def run_demo(output: str | Path = "results/demo", limit: int | None = None, force: bool = False,
             progress: bool | None = None) -> PairOutcome:
    """Compare the demo pair on the demo's conjugates; returns the compare outcome (summary, folder)."""
    from conj_harness.comparison import compare_pair
    from conj_harness.demo.checkpoint import demo_paths
    from conj_harness.pairs.spec import PairSpec

    base, tuned = demo_paths()  # a missing or corrupted checkpoint stops here, naming the rebuild command
    spec = PairSpec(
        base=str(base), tuned=str(tuned), tasks=list(DEMO_TASKS), backend="hf", limit=limit, batch_size="32",
        device="cpu", model_args="dtype=float32", name="demo",
    )
    return compare_pair(spec, Path(output), force=force, progress=progress, process_per="model")
