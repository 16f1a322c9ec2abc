"""Stage 3 of the pipeline, the families: each experiment's documents, prompts and scoring, in plain Python.

One module per experiment of the paper - :mod:`.icl` (in-context learning vs instruction following), :mod:`.xnli`
(natural-language reasoning lost by code tuning), :mod:`.safety` (AdvBench / MultiJail refusal). Nothing here
imports lm-eval: :mod:`conj_harness.lmeval` wraps these functions as lm-eval task hooks, and
:data:`conj_harness.lmeval.taskgen.FAMILIES` lists which conjugates each family ships.
"""
