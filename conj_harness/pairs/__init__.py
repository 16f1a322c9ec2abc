"""Stage 7 of the pipeline, model pairs: the same tasks on a base model and its fine-tune.

* :mod:`.spec` - :class:`~.spec.PairSpec`, what defines a comparison, and ``pairs.yaml`` files;
* :mod:`.store` - the results folder: its layout, ``pair.json``, per-unit commits and the folder lock (the only
  module that knows the folder format);
* :mod:`.runner` - runs each (model, task) unit through ``conj-eval`` and commits it to the store;
* :mod:`.tokenizers` - whether the two models share a tokenizer.

Reports are made from a store by :mod:`conj_harness.report`.
"""
