"""Translator backends, installed as ``conj_harness.translators`` (interface in ``base.py``).

=========  ==================================================================  =======================
name       what                                                                options
=========  ==================================================================  =======================
google     googletrans 4.x (the paper's translator), concurrent, retried       service_url, concurrency
hf         local seq2seq MT (MarianMT, NLLB-200, M2M100) on GPU or CPU         model, device, batch_size
table      human translations from aligned datasets (XNLI, MultiJail, paper)   -
cipher     the rule-based conjugates (leet, piglatin, en)                      -
=========  ==================================================================  =======================
"""

from __future__ import annotations

from importlib import import_module

from conj_harness.errors import UnknownNameError
from conj_harness.translators.base import TranslationError, Translator

BACKENDS: dict[str, tuple[str, str]] = {
    "google": ("conj_harness.translators.google", "GoogleTranslator"),
    "hf": ("conj_harness.translators.hf", "HFTranslator"),
    "table": ("conj_harness.translators.table", "TableTranslator"),
    "cipher": ("conj_harness.translators.cipher", "CipherTranslator"),
}

__all__ = ["BACKENDS", "TranslationError", "Translator", "get_backend"]


def get_backend(name: str, **options) -> Translator:
    """Instantiate a backend by name; unknown names list the valid ones."""
    try:
        module, cls = BACKENDS[name]
    except KeyError:
        raise UnknownNameError("translator backend", name, BACKENDS) from None
    return getattr(import_module(module), cls)(**options)
