"""Writes models/arith/README.md from report.json, so the figures in the card are always the measured ones."""

from __future__ import annotations

import json
import os
import sys


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def num(x, fmt=".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def render(r: dict) -> str:
    lm, rm, vm = r["lm"], r["reward"], r["value"]
    wp = rm["test"].get("within_problem", {})
    t = {k: (float("nan") if v is None else v) for k, v in r["timings_s"].items()}
    m = r["config"]["model"]
    sizes = r["onnx_bytes"]
    lines = [
        "# Built-in `arith` models",
        "",
        "Trained from scratch by the forge (`tools/forge`, see tools/README.md) on the built-in `arith` task",
        "(`src/Tasks/Arith`: seeded grade-school word problems with an exact checker). Reproduce with:",
        "",
        "```sh",
        "dotnet build src/Cli -c Release",
        f"/usr/bin/python3 tools/forge/forge.py --seed {r['seed']} --out models/arith",
        "```",
        "",
        "| folder | head | output | use |",
        "|---|---|---|---|",
        "| `lm/` | lm | `logits` [B,S,V] | base policy (`decodealign` default on a fresh machine) |",
        "| `reward/` | score | `scores` [B,S] | reward model: log-odds that the response is correct; read the score at the last token of `<|bos|>` + prompt + response (the `<|eos|>` when the response has one); the score at any position is that of the response so far; second output `candidate_scores` [B,S,V]: the score with each possible next token appended (ARGS reads k candidates from one row) |",
        "| `value/` | value | `values` [B,S,V] | VAS value model: at each position V(s, a) for every next token a |",
        "",
        "Each folder holds `model.onnx`, `genai_config.json`, `config.json`, the shared `tokenizer.json` +",
        "`tokenizer_config.json`, and `parity.json` (PyTorch's output on a fixed input, checked by the C# tests).",
        f"Prompt format: `<|bos|>Q: <problem>\\nA:`, response ` <solution>` then `<|eos|>`.",
        "",
        "## Architecture and tokenizer",
        "",
        f"Llama-style decoder (RMSNorm, RoPE, SwiGLU): dim {m['dim']}, {m['n_layers']} layers, {m['n_heads']} heads "
        f"({m['n_kv_heads']} kv heads), FFN {m['hidden_dim']}, context {m['max_seq_len']}, "
        f"{lm['params']:,} parameters (lm). Byte-level BPE, vocab {r['tokenizer']['vocab_size']} "
        f"({r['tokenizer']['merges']} merges, none involving digits; eos {r['tokenizer']['eos']}, "
        f"bos {r['tokenizer']['bos']}, pad {r['tokenizer']['pad']}).",
        "",
        "## Measured (test split, never trained on)",
        "",
        f"Base LM, {lm['test']['problems']} test problems: sampling at T = 1 **{pct(lm['test']['sample_t1_accuracy'])}** "
        f"correct, greedy **{pct(lm['test']['greedy_accuracy'])}** (target: 25–60% and ≤ 75%). "
        f"Chosen checkpoint: step {lm['chosen_step']} (first validation checkpoint inside the band).",
        "",
        f"Reward model on {rm['test']['n']} held-out base samples (T = 1, {pct(rm['test']['positive_rate'])} correct): "
        f"ROC AUC **{num(rm['test']['auc'])}**, accuracy at 0.5 (score > 0) **{pct(rm['test']['accuracy_at_0.5'])}** "
        f"(target AUC 0.75–0.95). Within a problem ({wp['problems']} problems, {r['config']['samples']['k']} samples each): "
        f"a correct sample outscores a wrong one in {pct(wp['pair_accuracy'])} of {wp['pairs']} pairs, and the top-scored "
        f"sample is correct on {pct(wp['top_pick_accuracy'])} of problems against {pct(wp['random_pick_accuracy'])} "
        f"for a random one.",
        "",
        f"The reward model is a likelihood verifier over the base LM (`tools/forge/verifier.py`): r(x, y) = a · "
        f"Σ_t log p_LM(y_t | x, y_<t) + b over the response tokens, with a = {num(rm['a'], '.4f')} and "
        f"b = {num(rm['b'], '.4f')} fitted by logistic regression on the graded train samples. Its graph is the LM's "
        f"plus {r['reward_layout']['state_layers']} extra cache layer(s) carrying each position's hidden state, "
        f"log-normaliser and running sum, so prefixes, forks and truncations score exactly."
        if rm.get("kind") == "likelihood_verifier" else "",
        "",
        f"Value model on the same held-out samples: TD(λ) MSE {num(vm['test']['td_mse'], '.4f')}; R² against the "
        f"Monte-Carlo return (the RM's final score, γ = 1): all positions {num(vm['test']['r2_all_positions_vs_return'])}, "
        f"first response token {num(vm['test']['r2_first_token_vs_return'])}, last token "
        f"{num(vm['test']['r2_last_token_vs_return'])}. Chosen step {vm['chosen_step']}.",
        "",
        "## Training",
        "",
        f"Seed {r['seed']}, torch {r['torch']}, {r['threads']} threads. Wall time of this run "
        f"(on a shared machine, other jobs may have competed for the cores): total {t['total_s'] / 60:.1f} min — data + tokenizer {t['data_tokenizer_s']:.0f} s, "
        f"LM {t['lm_train_s']:.0f} s, sampling {t['sampling_s']:.0f} s, reward {t['rm_train_s']:.0f} s, "
        f"value {t['value_train_s']:.0f} s, export {t['export_s']:.0f} s.",
        "",
        f"ONNX sizes: lm {sizes['lm'] / 2**20:.1f} MiB, reward {sizes['reward'] / 2**20:.1f} MiB, "
        f"value {sizes['value'] / 2**20:.1f} MiB.",
        "",
        "Base samples: " + ", ".join(f"{k} {v}" for k, v in r["samples"].items() if isinstance(v, int)) +
        f" responses (train-problem samples {pct(r['samples']['train_accuracy'])} correct).",
        "",
        "Full histories (validation accuracy / AUC / TD error per checkpoint) are in `report.json`.",
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
