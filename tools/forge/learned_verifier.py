"""The learned verifier (the named reward `verifier`): a process reward model whose steps are judged by a separately
trained network, not by the base LM.

A step model z (a Llama decoder started from the base LM's weights, with its own untied vocabulary head) is trained
with binary cross-entropy on process labels (process_labels.py): on every prefix that has no mistake yet, z(y_<=t)[v]
is the logit of "appending v keeps the response free of mistakes" — the next digit is the right one, a number ends
where it should, <|eos|> comes after the right answer. By the chain rule,

    log P(no mistake in y_<=t) = Σ_{j<=t, response} log σ(z(y_<j)[y_j]),

so the verifier's score is that running sum, calibrated by logistic regression on graded base samples:

    scores[t]              = a · Σ_{j<=t} log σ(z(y_<j)[y_j]) + b        (at <|eos|>: log-odds that y is correct)
    candidate_scores[t, v] = a · (Σ_{j<=t} log σ(z(y_<j)[y_j]) + log σ(z(y_<=t)[v])) + b

(Lightman et al. 2023, "Let's Verify Step by Step", for step-level verification; the product of step
probabilities as a prefix score as in Uesato et al. 2022). The graph is verifier.py's: each position's hidden state
rides in extra cache layers, so prefix scores stay exact through the engine's forks, reorders and truncations.
Nothing in it reads the base LM's logits or parses equations; what it knows of arithmetic it learned from the
labels, so it is imperfect where its training was.
"""

from __future__ import annotations

from dataclasses import replace

from decodealign_tools.llama import Llama
from verifier import LikelihoodVerifier


class StepVerifier(LikelihoodVerifier):
    """a · Σ log σ(z(y_<j)[y_j]) + b over the response tokens, z the trained step model; see the module doc."""

    link = "sigmoid"

    def describe(self) -> dict:
        d = super().describe()
        d.update({"kind": "learned_verifier",
                  "formula": "a * sum_response log sigmoid(z(y_<t)[y_t]) + b, z a step model trained on process labels"})
        return d


def step_model(lm: Llama) -> Llama:
    """A copy of the LM with an untied vocabulary head started from the LM's (tied) head: the step model's start."""
    cfg = replace(lm.cfg, tie_embeddings=False, head="lm")
    m = Llama(cfg)
    state = {k: v.clone() for k, v in lm.state_dict().items()}
    state["output.weight"] = lm.output.weight.detach().clone()
    m.load_state_dict(state)
    return m
