"""Stage 1 of the pipeline, the documents: where each dataset comes from and how it is checked.

* :mod:`.sources` - the ``CONJ_DATA_DIR`` mirror (validated on read), the Hugging Face hub and the authors'
  sha256-pinned files, with one-line errors naming the file and the fix;
* :mod:`.download` - ``conj-harness download-data``: writes that mirror for air-gapped nodes.
"""
