"""The embedded demo pair and ``conj-harness demo``: the whole pipeline, offline, in minutes on a CPU.

* :mod:`.run` - ``conj-harness demo``: compare the pair on the paper's ICL prompts;
* :mod:`.checkpoint` - find the shipped checkpoint (``model/``) and verify it against its manifest;
* :mod:`.train` - ``python -m conj_harness.demo.train --out DIR``: rebuild the pair from scratch.
"""
