"""Stage 6 of the pipeline, the judge: labels a safety family's responses REFUSE / ANSWER / AMBIGUOUS.

* :mod:`.refusal` - the staged judge (phrase lists, back-translation, optional model judge);
* :mod:`.phrases` - the refusal phrase lists, per language;
* :mod:`.task_judge` - one task's responses through the configured judge, at once.

Plain Python: :mod:`conj_harness.lmeval.filters` runs it over a task's responses inside lm-eval.
"""
