"""chrF (Popović 2015) of texts translated to a conjugate and back, against the originals: an ``evaluate`` metric.

Written for conj-harness and loaded by path (``evaluate.load(<this folder>)``), so it works offline: the hub's
metric modules are downloaded on first use, which air-gapped nodes cannot do. The score is sacrebleu's corpus
chrF (character 6-grams, beta 2, no word n-grams: the chrF that MT evaluation reports), 0-100; ``sentence_mean``
is the mean of the per-text scores, and ``below`` how many texts score under ``threshold``.
"""

import datasets
import evaluate

_DESCRIPTION = "Round-trip chrF: sacrebleu's corpus chrF of back-translations against the source texts (0-100)."
_CITATION = "Maja Popović. 2015. chrF: character n-gram F-score for automatic MT evaluation. WMT."
_KWARGS = """
Args:
    predictions: the texts after the round trip (source -> conjugate -> source).
    references: the source texts, one per prediction.
    threshold: a per-text chrF under which a text is counted in ``below`` (default 50).
Returns:
    score: corpus chrF; sentence_mean: mean per-text chrF; below: texts under the threshold; n: texts scored.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class RoundtripChrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
            reference_urls=["https://github.com/mjpost/sacrebleu"],
        )

    def _compute(self, predictions, references, threshold=50.0):
        from sacrebleu.metrics import CHRF

        chrf = CHRF()
        if not predictions:
            return {"score": None, "sentence_mean": None, "below": 0, "n": 0}
        corpus = chrf.corpus_score(list(predictions), [list(references)]).score
        per_text = [chrf.sentence_score(p, [r]).score for p, r in zip(predictions, references)]
        return {"score": corpus, "sentence_mean": sum(per_text) / len(per_text),
                "below": sum(s < threshold for s in per_text), "n": len(per_text)}
