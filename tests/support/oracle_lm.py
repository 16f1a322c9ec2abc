"""An lm-eval model that knows the answers: what conjugate prompting assumes of a perfect English model.

Conjugate prompting computes ``s^-1(f(s(P)))``. A model ``f`` that is right in English and treats a conjugated
prompt as its original - ``f(s(P)) = s(f(P))`` - must score the same on every conjugate of a task, if the task's
prompts really are ``s(P)``, its gold answers stay aligned and its answers are mapped back before scoring. The
oracle is built from the *original* documents and the transform ``s``, not from the conjugated task's files:

* ``answers``: ``s(doc_to_text(doc))`` -> ``s(answer)``; a generation request is answered from the longest key its
  prompt ends with ("" when none: the prompt is not what it should be);
* ``gold``: ``s(gold choice)``; a log-likelihood request scores 0 for a gold continuation, -5 otherwise.

``right`` (document index -> bool) makes it wrong on purpose for some documents, so that "unchanged" is tested on
a score other than 1.
"""

from __future__ import annotations

from lm_eval.api.model import LM


class OracleLM(LM):
    def __init__(self, answers: dict[str, str], gold: set[str]) -> None:
        super().__init__()
        self.answers = answers
        self.gold = gold
        self.keys = sorted(answers, key=len, reverse=True)
        self.prompts: list[str] = []

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        out = []
        for request in requests:
            context = request.args[0]
            self.prompts.append(context)
            key = next((k for k in self.keys if context.endswith(k)), None)
            out.append(self.answers[key] if key is not None else "")
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        out = []
        for request in requests:
            context, continuation = request.args
            self.prompts.append(context + continuation)
            out.append((0.0, True) if continuation.strip() in self.gold else (-5.0, False))
        return out

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        raise NotImplementedError("the oracle answers generation and multiple-choice requests")
