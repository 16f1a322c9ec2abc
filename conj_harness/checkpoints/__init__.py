"""Real checkpoints as users have them: what a model needs at the front of a prompt, and GGUF files.

* :mod:`.bos` - the BOS policy per model family (paper mode for the paper's LLaMA/OPT checkpoints, a BOS for
  Gemma, the tokenizer's own default for everything else), read from the checkpoint before it loads.
* :mod:`.gguf` - a GGUF file (``pretrained=model.gguf`` or ``gguf_file=``) converted once into a cached
  safetensors folder, so the many loads of a compare take seconds instead of minutes.
* :mod:`.offline` - the two real pretrained models that install offline from the package index.
"""
