"""Writes models/arith/README.md from report.json, so the figures in the card are always the measured ones."""

from __future__ import annotations

import json
import os
import sys


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def num(x, fmt=".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _times(r: dict) -> str:
    t = r["timings_s"]
    names = {"data_tokenizer_s": "data + tokenizer", "lm_train_s": "LM", "sampling_s": "sampling",
             "likelihood_fit_s": "likelihood fit", "verifier_train_s": "verifier", "aligned_train_s": "aligned policy",
             "value_train_s": "value", "export_s": "export"}
    return ", ".join(f"{names.get(k, k)} {'n/a (reused)' if v is None else f'{v:.0f} s'}"
                     for k, v in t.items() if k != "total_s")


def render(r: dict) -> str:
    lm, lk, ver, al, vm = r["lm"], r["likelihood"], r["verifier"], r["aligned"], r["value"]
    wp = lk["test"].get("within_problem", {})
    vt = ver["test"]
    m = r["config"]["model"]
    sizes = r["onnx_bytes"]
    k = r["config"]["samples"]["k"]
    lines = [
        "# Built-in `arith` models",
        "",
        "Trained from scratch by the forge (`tools/forge`, see tools/README.md) on the built-in `arith` task",
        "(`src/Tasks/Arith`: seeded grade-school word problems with an exact checker). Reproduce every model with:",
        "",
        "```sh",
        "dotnet build src/Cli -c Release",
        f"/usr/bin/python3 tools/forge/forge.py --seed {r['seed']} --out models/arith",
        "```",
        "",
        "| folder | head | output | use |",
        "|---|---|---|---|",
        "| `lm/` | lm | `logits` [B,S,V] | base policy (`decodealign` default) |",
        "| `verifier/` | score | `scores` [B,S], `candidate_scores` [B,S,V] | learned verifier, the default reward (`--reward verifier`): a · log P(no mistake so far) + b, at the `<|eos|>` the log-odds that the response is correct; `candidate_scores`: the same with each possible next token appended (ARGS reads k candidates from one row) |",
        "| `likelihood/` | score | `scores` [B,S], `candidate_scores` [B,S,V] | likelihood verifier (`--reward likelihood`): a·log p_LM(response) + b, the base LM's own confidence |",
        "| `aligned/` | lm | `logits` [B,S,V] | aligned baseline policy for Transfer Q*: the LM fine-tuned on its own correct samples |",
        "| `value/` | value | `values` [B,S,V] | VAS value model: at each position V(s, a) for every next token a, fitted to the verifier's returns |",
        "",
        "Each folder holds `model.onnx`, `genai_config.json`, `config.json`, the shared `tokenizer.json` +",
        "`tokenizer_config.json`, and `parity.json` (PyTorch's output on a fixed input, checked by the C# tests).",
        "Prompt format: `<|bos|>Q: <problem>\\nA:`, response ` <solution>` then `<|eos|>`.",
        "",
        "## Architecture and tokenizer",
        "",
        f"Llama-style decoder (RMSNorm, RoPE, SwiGLU): dim {m['dim']}, {m['n_layers']} layers, {m['n_heads']} heads "
        f"({m['n_kv_heads']} kv heads), FFN {m['hidden_dim']}, context {m['max_seq_len']}, "
        f"{lm['params']:,} parameters (lm; verifier {ver['params']:,} with its two heads). Byte-level BPE, vocab "
        f"{r['tokenizer']['vocab_size']} ({r['tokenizer']['merges']} merges, none involving digits; eos "
        f"{r['tokenizer']['eos']}, bos {r['tokenizer']['bos']}, pad {r['tokenizer']['pad']}).",
        "",
        "## Measured (test split, never trained on)",
        "",
        f"**Base LM**, {lm['test']['problems']} test problems: sampling at T = 1 **{pct(lm['test']['sample_t1_accuracy'])}** "
        f"correct, greedy **{pct(lm['test']['greedy_accuracy'])}**. Chosen checkpoint: step {lm['chosen_step']} "
        f"(the first validation checkpoint inside the useful-but-fallible band).",
        "",
        f"**Learned verifier** on {vt['n_samples']} held-out base samples ({vt['n_samples'] // k} problems × {k}, T = 1): "
        f"ROC AUC **{num(vt['auc'])}**, within-problem ranking **{num(vt['within_problem_ranking'])}** (a correct sample "
        f"outscores a wrong one of the same problem, over {vt['pairs']} pairs), accuracy at score 0 "
        f"{pct(vt['accuracy_at_0'])}, top-scored of {k} correct on {pct(vt['top_of_group_accuracy'])} of problems. "
        f"Chosen step {ver['chosen_step']}.",
        "",
        "It is a separate network (`tools/forge/learned_verifier.py`): a step model z — a decoder started from the "
        "LM's weights, with its own untied vocabulary head — trained with binary cross-entropy on process labels "
        "(`process_labels.py`: appending token v keeps the response free of mistakes, i.e. the numbers written so far "
        "agree with the reference solution's, and `<|eos|>` comes after the right answer) for every next token, on the "
        "mistake-free prefixes of graded base samples and of reference solutions (`train_verifier.py`). By the chain "
        "rule its running sum Σ_t log σ(z(y_<t)[y_t]) is log P(no mistake so far); the score is a · that + b with "
        f"a = {num(ver['a'], '.4f')}, b = {num(ver['b'], '.4f')} fitted by logistic regression on the graded train "
        "samples, so at `<|eos|>` it is the log-odds that the response is correct. The graph carries each position's "
        "state in extra cache layers (`verifier.py`'s layout), so prefix scores survive forks and truncations. "
        "Nothing in it reads the base LM's logits or parses equations; it errs where its training did.",
        "",
        f"**Likelihood verifier** (`--reward likelihood`) on the same samples: ROC AUC **{num(lk['test']['auc'])}**, "
        f"within-problem ranking **{num(wp.get('pair_accuracy'))}** over {wp.get('pairs')} pairs; r = a · Σ_t log "
        f"p_LM(y_t | x, y_<t) + b with a = {num(lk['a'], '.4f')}, b = {num(lk['b'], '.4f')} (logistic regression on the "
        f"graded train samples; `tools/forge/verifier.py`). Its graph is the LM's plus "
        f"{r['likelihood_layout']['state_layers']} extra cache layer(s) carrying each position's running sum.",
        "",
        f"**Aligned policy** (rejection-sampling fine-tuning on {al['train_samples']} checker-correct base samples of train "
        f"problems, step {al['chosen_step']}): sampling at T = 1 **{pct(al['test']['sample_t1_accuracy'])}**, greedy "
        f"**{pct(al['test']['greedy_accuracy'])}** on {al['test']['problems']} test problems.",
        "",
        f"**Value model**, TD(λ) on the learned verifier's final scores plus a centred distillation of the verifier's "
        f"one-step differences on the LM's top-20 (`train_value.py`; started from the step model): TD MSE {num(vm['test']['td_mse'], '.4f')}; R² against the Monte-Carlo return (γ = 1) on the held-out "
        f"samples: all positions **{num(vm['test']['r2_all_positions_vs_return'])}**, first response token "
        f"{num(vm['test']['r2_first_token_vs_return'])}, last token {num(vm['test']['r2_last_token_vs_return'])}. "
        f"Chosen step {vm['chosen_step']}.",
        "",
    ]
    if r.get("strategy_eval"):
        ev = r["strategy_eval"]
        lines += ["## Strategies with these models", "", ev["command"], ""]
        names = list(ev["rows"][0]["accuracy"].keys())
        lines += ["| reward | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for row in ev["rows"]:
            lines.append(f"| {row['reward']} | " + " | ".join(pct(row['accuracy'].get(n)) for n in names) + " |")
        lines.append("")
    lines += [
        "## Training",
        "",
        f"Seed {r['seed']}, torch {r['torch']}, {r['threads']} threads. Wall time of this run (2-core machine; other "
        f"jobs may have competed for the cores): {_times(r)}.",
        "",
        "ONNX sizes: " + ", ".join(f"{n} {b / 2**20:.1f} MiB" for n, b in sizes.items()) + ".",
        "",
        "Base samples: " + ", ".join(f"{kk} {v}" for kk, v in r["samples"].items() if isinstance(v, int)) +
        f" responses (train-problem samples {pct(r['samples']['train_accuracy'])} correct).",
        "",
        "Full histories (validation accuracy / AUC / ranking / TD error per checkpoint) are in `report.json`.",
        "",
    ]
    if r.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in r["notes"]] + [""]
    return "\n".join(lines)


def write(out_dir: str) -> None:
    with open(os.path.join(out_dir, "report.json")) as f:
        report = json.load(f)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(render(report))


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "models", "arith"))
