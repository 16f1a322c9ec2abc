"""The pair A / pair B training script (issue 27) runs end to end: 2 steps on a tiny random model, each recipe -
the adapter saved, the recipe and the held-out set recorded, the losses finite and the same on a second run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import REPO

SCRIPT = REPO / "bench" / "real_pair" / "train_lora.py"


def _train(recipe: str, model: Path, out: Path, data_dir: Path) -> dict:
    # the tiny model's tokenizer cuts English into many pieces: Alpaca rows need a longer limit than on Gemma
    subprocess.run([sys.executable, str(SCRIPT), "--recipe", recipe, "--base", str(model), "--out", str(out),
                    "--steps", "2", "--batch", "2", "--max-tokens", "512", "--data-dir", str(data_dir)],
                   check=True, capture_output=True, text=True, timeout=600)
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    return json.loads((out / "training.json").read_text())


@pytest.mark.slow
@pytest.mark.mirror
def test_the_alpaca_recipe_trains_on_its_split_and_repeats_exactly(tiny_llama, tmp_path, data_dir):
    first = _train("alpaca", tiny_llama, tmp_path / "a1", data_dir)
    assert [x["step"] for x in first["losses"]] == [1, 2] and all(math.isfinite(x["loss"]) for x in first["losses"])
    assert first["train_rows"] == 4800 and len(first["heldout_instructions"]) == 200
    assert first["examples"] + first["left_out_too_long"] == 4800 and first["examples"] > 0
    second = _train("alpaca", tiny_llama, tmp_path / "a2", data_dir)
    assert second["losses"] == first["losses"]  # fixed seed, deterministic torch


@pytest.mark.slow
def test_the_code_recipe_reads_this_pythons_standard_library(tiny_llama, tmp_path, data_dir):
    record = _train("code", tiny_llama, tmp_path / "c", data_dir)
    assert record["python"] == ".".join(map(str, sys.version_info[:3])) and len(record["data_sha256"]) == 64
    assert record["train_files"] > 500 and record["heldout_files"] and record["examples"] > 1000
    assert not any("site-packages" in f or f.startswith("test") for f in record["heldout_files"])
