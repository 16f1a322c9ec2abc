"""The embedded demo pair (conj_harness/demo/model): integrity checks, the rebuild error, and the effect itself
through the real `conj-eval` CLI on a few documents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conj_harness.demo import checkpoint as demo_check
from conj_harness.errors import ConjError
from tests.support.cli import read_results, run

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

MAX_BYTES = 20 * 1024 * 1024
# 5 documents of each of the four (ICL task, IF task) configs: 0-99 capslock-math, 100-199 repeat-math,
# 200-299 capslock-startblank, 300-399 repeat-startblank (a plain --limit 20 would only see capslock-math)
DOCS = [i for start in (0, 100, 200, 300) for i in range(start, start + 5)]


def test_checkpoint_is_complete_and_small():
    base, tuned = demo_check.demo_paths()
    manifest = demo_check.read_manifest()
    for folder in (base, tuned):
        for name in demo_check.REQUIRED:
            assert (folder / name).is_file()
    total = sum(p.stat().st_size for p in demo_check.DEMO_DIR.rglob("*") if p.is_file())
    assert total <= MAX_BYTES, f"demo checkpoint is {total / 1e6:.1f} MB, over the 20 MB budget"
    assert manifest["seed"] == 0
    assert set(manifest["results"]) == {"paper", "heldout"}
    assert manifest["rebuild"].startswith("python -m conj_harness.demo.train --out ")


@pytest.fixture()
def demo_copy(tmp_path) -> Path:
    dst = tmp_path / "demo_model"
    shutil.copytree(demo_check.DEMO_DIR, dst)
    return dst


def _assert_rebuild_error(folder: Path, why: str) -> None:
    with pytest.raises(ConjError) as e:
        demo_check.demo_paths(folder)
    msg = str(e.value)
    assert msg.startswith(f"demo checkpoint missing or corrupted at {folder}"), msg
    assert why in msg
    assert f"rebuild it with `python -m conj_harness.demo.train --out {folder}`" in msg


def test_corrupted_weights_name_the_rebuild_command(demo_copy):
    weights = demo_copy / "tuned" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    _assert_rebuild_error(demo_copy, "tuned/model.safetensors does not match its sha256")


def test_missing_file_and_missing_or_broken_manifest(demo_copy, tmp_path):
    (demo_copy / "base" / "tokenizer.json").unlink()
    _assert_rebuild_error(demo_copy, "base/tokenizer.json is missing")
    (demo_copy / "manifest.json").write_text("{not json")
    _assert_rebuild_error(demo_copy, "manifest.json is not valid JSON")
    (demo_copy / "manifest.json").write_text(json.dumps({"files": {}}))
    _assert_rebuild_error(demo_copy, "lists no files")
    (demo_copy / "manifest.json").unlink()
    _assert_rebuild_error(demo_copy, "no manifest.json")
    _assert_rebuild_error(tmp_path / "nowhere", "no manifest.json")


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory) -> dict[str, dict]:
    """`conj-eval` (lm-eval's hf backend, paper mode) on 20 documents of conj_icl_en and conj_icl_leet, per model."""
    base, tuned = demo_check.demo_paths()
    samples = json.dumps({"conj_icl_en": DOCS, "conj_icl_leet": DOCS})
    out = {}
    for role, path in (("base", base), ("tuned", tuned)):
        dst = tmp_path_factory.mktemp(role)
        run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={path},dtype=float32", "--device", "cpu",
             "--tasks", "conj_icl_en,conj_icl_leet", "--samples", samples, "--batch_size", "20",
             "--output_path", str(dst)], timeout=300)
        out[role] = read_results(dst)["results"]
    return out


def test_demo_pair_shows_the_effect(demo_runs):
    """Base does ICL in both forms; tuning removes it in English much more than in Leetspeak."""
    acc = {(role, task): demo_runs[role][task]["icl_acc,none"] for role in demo_runs for task in demo_runs[role]}
    assert acc["base", "conj_icl_en"] >= 0.8, acc
    assert acc["base", "conj_icl_leet"] >= 0.8, acc
    assert acc["tuned", "conj_icl_en"] <= 0.2, acc
    assert acc["tuned", "conj_icl_leet"] - acc["tuned", "conj_icl_en"] >= 0.3, acc
