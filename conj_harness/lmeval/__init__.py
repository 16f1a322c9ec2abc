"""Everything that touches lm-evaluation-harness, and the only package that imports it.

* :mod:`.compat` - every use of lm-eval's private APIs, behind one version check;
* :mod:`.registration` - a TaskManager that knows the ``conj_*`` tasks;
* :mod:`.taskgen` - writes the per-conjugate task YAMLs of each family;
* :mod:`.add_language` - ``conj-harness add-language``: a new language conjugate, translated once, as tasks;
* :mod:`.hooks`, :mod:`.filters` - what the task YAMLs call (docs as a dataset, the judge as a filter);
* :mod:`.backend_checks` - one-line errors for a missing backend or a prompt that vLLM would truncate;
* :mod:`.eval_cli` - ``conj-eval``: lm-eval's own CLI with the tasks registered;
* :mod:`.outputs` - the files lm-eval writes under ``--output_path`` (results, per-sample logs).
"""
