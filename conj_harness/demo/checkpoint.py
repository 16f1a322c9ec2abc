"""Find and verify the embedded demo pair (``conj_harness/demo/model``) before anything loads it.

:func:`demo_paths` checks that ``manifest.json`` exists and parses, and that every file it lists exists with the
recorded sha256, so a missing, truncated or edited checkpoint gives one clear error that names the command which
rebuilds it, instead of a stack trace from deep inside transformers.
"""

from __future__ import annotations

import json
from pathlib import Path

from conj_harness.errors import ConjError
from conj_harness.files.digest import sha256_file

DEMO_DIR = Path(__file__).resolve().parent / "model"
MANIFEST = "manifest.json"
ROLES = ("base", "tuned")
# what every saved model folder must hold for `--model hf` to load it
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")


def rebuild_command(folder: Path | str = DEMO_DIR) -> str:
    return f"python -m conj_harness.demo.train --out {folder}"


def _broken(folder: Path, why: str) -> ConjError:
    return ConjError(f"demo checkpoint missing or corrupted at {folder} ({why}): rebuild it with "
                     f"`{rebuild_command(folder)}`")


def read_manifest(folder: Path | str = DEMO_DIR) -> dict:
    """The demo's manifest (seed, config, file hashes, measured results), or the rebuild error."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise _broken(folder, f"no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _broken(folder, f"{MANIFEST} is not valid JSON: {e}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise _broken(folder, f"{MANIFEST} lists no files")
    return manifest


def demo_paths(folder: Path | str = DEMO_DIR) -> tuple[Path, Path]:
    """``(base, tuned)`` model folders of the demo pair, after checking every file against the manifest."""
    folder = Path(folder)
    files = read_manifest(folder)["files"]
    for role in ROLES:
        for name in REQUIRED:
            if f"{role}/{name}" not in files:
                raise _broken(folder, f"{MANIFEST} does not list {role}/{name}")
    for rel, digest in sorted(files.items()):
        path = folder / rel
        if not path.is_file():
            raise _broken(folder, f"{rel} is missing")
        if sha256_file(path) != digest:
            raise _broken(folder, f"{rel} does not match its sha256 in {MANIFEST}")
    return folder / "base", folder / "tuned"
