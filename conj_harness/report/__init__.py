"""Stage 8 of the pipeline, the report: from saved per-sample logs to drop, recovery and significance.

* :mod:`.inputs` - a pair's samples, from a compare store or two lm-eval output folders;
* :mod:`.analysis` - drop, recovery and paired tests per family and conjugate (``summary.json``'s rows);
* :mod:`.stats` - exact McNemar, paired bootstrap and permutation tests;
* :mod:`.markdown`, :mod:`.plots` - ``report.md`` and the PNGs;
* :mod:`.render` - writes a pair's (or several pairs') report files.

No inference happens here: a report can always be re-rendered from a results folder.
"""
