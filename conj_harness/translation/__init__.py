"""The translator layer: how a language conjugate is made, once, and reused offline.

* :mod:`.layer` - :class:`~.layer.TranslationLayer`: cache lookup, batched backend calls, language checks;
* :mod:`.cache` - the SQLite translation cache and its JSONL export/import;
* :mod:`.langcheck` - the seeded language-identification check on every new translation.

``conj-harness add-language`` (:mod:`conj_harness.lmeval.add_language`) uses this layer to translate a family's
strings and data once and write them out as lm-eval tasks.

The backends themselves (``google``, ``hf``, ``table``, ``cipher``) live in :mod:`conj_harness.translators`
(the repository's top-level ``translators/`` folder).
"""
