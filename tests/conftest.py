"""Shared fixtures: the offline data mirror, tiny random-init models built offline, and CLI runners."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import REPO


def _data_dir() -> Path:
    return Path(os.environ.get("CONJ_DATA_DIR") or REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = _data_dir()
    if not (path / "icl_sentences" / "en.txt").is_file():
        pytest.fail(f"offline data mirror not found at {path}: set CONJ_DATA_DIR (see README)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _offline_env(data_dir, tmp_path_factory):
    """Every test (and every CLI it starts) runs offline against the mirror, with its own caches."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("CONJ_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    home = tmp_path_factory.getbasetemp() / "home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "hf_datasets"))
    yield
    monkeypatch.undo()


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A ~0.5M-parameter random Llama with a locally trained tokenizer (seed 0)."""
    from tests.support.tiny_models import build_llama

    return build_llama(tmp_path_factory.mktemp("models") / "tiny-llama-0", seed=0)


@pytest.fixture(scope="session")
def tiny_gemma(tmp_path_factory) -> Path:
    """A random Gemma 3 whose tokenizer adds <bos> (the BOS policy's Gemma case)."""
    from tests.support.tiny_models import build_gemma

    return build_gemma(tmp_path_factory.mktemp("models") / "tiny-gemma", seed=0)


@pytest.fixture(scope="session")
def tiny_chat_llama(tmp_path_factory) -> Path:
    """Like tiny_llama, with a chat template (for --apply_chat_template / --system_instruction runs)."""
    from tests.support.tiny_models import CHAT_TEMPLATE, build_llama

    return build_llama(tmp_path_factory.mktemp("models") / "tiny-chat", seed=0, chat_template=CHAT_TEMPLATE)
