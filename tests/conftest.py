"""Shared fixtures: the offline data mirror, tiny random-init models built offline, and CLI runners."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import REPO

#: CI sets this: a test that needs the mirror then fails without it instead of being skipped.
REQUIRE_DATA = os.environ.get("CONJ_REQUIRE_DATA") == "1"


def _data_dir() -> Path:
    return Path(os.environ.get("CONJ_DATA_DIR") or REPO.parent / "shared" / "data").resolve()


def _mirror_missing() -> str | None:
    path = _data_dir()
    if (path / "icl_sentences" / "en.txt").is_file():
        return None
    return f"offline data mirror not found at {path}: set CONJ_DATA_DIR (see README)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``mirror`` (they read ``../shared/data``) are skipped, with the reason, when it is absent -
    unless ``CONJ_REQUIRE_DATA=1`` (CI), where they run and fail."""
    missing = _mirror_missing()
    if missing is None or REQUIRE_DATA:
        return
    for item in items:
        if item.get_closest_marker("mirror") is not None:
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    missing = _mirror_missing()
    if missing is not None:
        if REQUIRE_DATA:
            pytest.fail(missing)
        pytest.skip(missing)
    return _data_dir()


@pytest.fixture(scope="session", autouse=True)
def _offline_env(tmp_path_factory):
    """Every test (and every CLI it starts) runs offline against the mirror (when there is one), with its own
    caches."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("CONJ_DATA_DIR", str(_data_dir()))
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
