#!/usr/bin/python3
"""The forge: trains DecodeAlign's built-in arith models from scratch and exports them to ONNX.

    /usr/bin/python3 tools/forge/forge.py --seed 1234 --out models/arith

1. dumps train / validation / test problems with the C# generator (`decodealign task-dump`),
2. trains a byte-level BPE tokenizer on the train split (digits never merged),
3. trains the base LM and stops at the first checkpoint that is useful but fallible on validation,
4. samples base-LM responses at T = 1 and grades them with the exact checker,
5. fits the likelihood verifier (the named reward `likelihood`): r = a * log p_LM(response) + b, a and b by logistic
   regression on the graded samples (verifier.py),
6. trains the learned verifier (the default reward `verifier`): a step model on process labels whose running sum of
   log sigma is calibrated the same way (learned_verifier.py, train_verifier.py, process_labels.py),
7. fine-tunes the aligned baseline policy on the LM's own correct samples (train_aligned.py),
8. fits the VAS value model to the verifier's returns (train_value.py),
9. exports the five decoders (lm / likelihood / verifier / aligned / value) with the tokenizer and a parity file
   each, evaluates on the test split and writes report.json and the model card.

`--tiny` runs the same pipeline on a toy config in seconds (the C# forge test uses it with `--data`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import random
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get("DECODEALIGN_TOOLS_PYTHON", os.path.join(ROOT, "tools", "python")))

import torch  # noqa: E402

from decodealign_tools.export import export_decoder  # noqa: E402
from decodealign_tools.llama import Llama, LlamaConfig  # noqa: E402

import data  # noqa: E402
import model_card  # noqa: E402
import onnx_weights  # noqa: E402
from bpe import ByteBpe  # noqa: E402
from sampling import accuracy, sample_many  # noqa: E402
from train_lm import train_lm  # noqa: E402
from train_rm import evaluate_rm, final_scores, fit_rm  # noqa: E402
from train_value import evaluate_value, taken_values, train_value  # noqa: E402
from learned_verifier import StepVerifier, step_model  # noqa: E402
from train_aligned import train_aligned  # noqa: E402
from train_verifier import evaluate as evaluate_verifier  # noqa: E402
from train_verifier import train_verifier  # noqa: E402
from verifier import LikelihoodVerifier  # noqa: E402

FULL = {
    "n_train": 60000, "n_val": 1000, "n_test": 1000,
    "model": {"dim": 128, "n_layers": 4, "n_heads": 4, "n_kv_heads": 4, "hidden_dim": 384, "max_seq_len": 192},
    "max_new": 80,
    # Base LM: stop at the first validation checkpoint inside the band (sampling at T=1 / greedy).
    "lm": {"steps": 4000, "batch": 32, "lr": 2e-3, "warmup": 50, "eval_every": 100, "eval_from": 1200, "eval_problems": 300,
           "accept_sample": [0.36, 0.56], "max_greedy": 0.70},
    "test_problems": 1000,
    # Base samples: reward/value training on train problems, checkpoint choice on validation, report on test.
    "samples": {"train_problems": 3000, "val_problems": 200, "test_problems": 500, "k": 4},
    # Learned verifier's step model: batches of 16 base samples and 16 references.
    "verifier": {"steps": 2500, "lr": 1e-3, "warmup": 100, "eval_every": 250, "mix": [16, 16]},
    "aligned": {"steps": 400, "batch": 32, "lr": 5e-4, "eval_every": 100, "eval_problems": 300},
    # Value: TD(lambda) plus centred distillation of the verifier's one-step differences on the LM's top-20.
    "value": {"steps": 600, "batch": 32, "lr": 5e-4, "eval_every": 100, "top_k": 20, "distill_weight": 1.0},
}

TINY = {
    "n_train": 300, "n_val": 40, "n_test": 40,
    "model": {"dim": 32, "n_layers": 2, "n_heads": 2, "n_kv_heads": 1, "hidden_dim": 64, "max_seq_len": 192},
    "max_new": 6,
    "lm": {"steps": 4, "batch": 8, "lr": 2e-3, "warmup": 2, "eval_every": 4, "eval_from": 0, "eval_problems": 4,
           "accept_sample": [0.0, 1.0], "max_greedy": 1.0},
    "test_problems": 4,
    "samples": {"train_problems": 8, "val_problems": 4, "test_problems": 4, "k": 2},
    "verifier": {"steps": 3, "lr": 1e-3, "warmup": 1, "eval_every": 3, "mix": [2, 2]},
    "aligned": {"steps": 2, "batch": 4, "lr": 5e-4, "eval_every": 2, "eval_problems": 4},
    "value": {"steps": 3, "batch": 4, "lr": 5e-4, "eval_every": 3, "top_k": 4, "distill_weight": 1.0},
}


def log(msg: str) -> None:
    print(f"[forge {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def get_data(conf, data_dir: str, work: str):
    """Problems per split, from --data (pre-dumped) or by running the C# task-dump."""
    splits = {}
    for split, n in (("train", conf["n_train"]), ("validation", conf["n_val"]), ("test", conf["n_test"])):
        path = os.path.join(data_dir or work, f"{split}.jsonl")
        if not data_dir:
            data.dump(split, 0, n, path)
        rows = data.load(path)
        if len(rows) < n:
            raise SystemExit(f"{path} holds {len(rows)} problems, the config needs {n}")
        splits[split] = rows[:n]
    return splits


def finite(x):
    """The report as strict JSON: NaN (e.g. an AUC over one class in --tiny) becomes null."""
    if isinstance(x, float):
        return None if x != x or x in (float("inf"), float("-inf")) else x
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    return x


def build(cfg_dict, vocab: int, head: str = "lm") -> Llama:
    return Llama(LlamaConfig(vocab_size=vocab, head=head, **cfg_dict))


def export(model, tok: ByteBpe, tok_dir: str, out_dir: str, context: int, parity_ids) -> None:
    """ONNX + configs + tokenizer files + parity.json (PyTorch's output on a fixed input, for the C# parity check)."""
    extra = model.describe() if hasattr(model, "describe") else None
    export_decoder(model.eval(), out_dir, special_tokens={"bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id,
                                                         "pad_token_id": tok.pad_id}, context_length=context,
                   extra_config=extra)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok_dir, f), os.path.join(out_dir, f))
    ids = torch.tensor([parity_ids], dtype=torch.int64)
    with torch.no_grad():
        out, _ = model(ids)
    name = {"lm": "logits", "score": "scores", "value": "values"}[model.cfg.head]
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump({"input_ids": [parity_ids], "output": name, "shape": list(out.shape),
                   "values": [round(float(v), 6) for v in out.flatten()]}, f)
        f.write("\n")


def response_marker(tok: ByteBpe, examples) -> list:
    """The last two prompt tokens (`A:`), which every prompt ends with: where the verifier starts summing."""
    ends = {tuple(data.encode_prompt(tok, e.prompt)[-2:]) for e in examples}
    if len(ends) != 1:
        raise SystemExit(f"prompts end with different token pairs {sorted(ends)}; the verifier needs one marker")
    return list(ends.pop())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "arith"), help="where lm/, reward/, value/ go")
    ap.add_argument("--work", default=os.path.join(ROOT, "out", "forge"), help="scratch: dumps, checkpoints")
    ap.add_argument("--data", default=None, help="folder with train/validation/test.jsonl (skips task-dump)")
    ap.add_argument("--tiny", action="store_true", help="toy config: seconds, for tests")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lm-onnx", default=None,
                    help="take the base LM from this exported folder (e.g. models/arith/lm) instead of training it; "
                         "its weights are checked against the folder's parity.json")
    ap.add_argument("--until", choices=["samples", "verifier", "aligned"], default=None,
                    help="stop after this stage (its cached outputs stay in WORK for the next run)")
    ap.add_argument("--resume-lm", action="store_true",
                    help="reuse WORK/lm.pt from an earlier run of the same command instead of training the LM, "
                         "and WORK/samples.pkl (its base samples) when it was drawn from that LM")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    conf = TINY if args.tiny else FULL
    seed = args.seed
    random.seed(seed)
    torch.manual_seed(seed)
    os.makedirs(args.work, exist_ok=True)
    timings, cpu = {}, {}  # wall and CPU seconds (all threads) per stage: CPU time tells what an idle machine needs
    report = {"seed": seed, "tiny": args.tiny, "config": conf, "torch": torch.__version__, "threads": args.threads}

    t, c = time.time(), time.process_time()
    splits = get_data(conf, args.data, args.work)
    train, val, test = splits["train"], splits["validation"], splits["test"]
    tok = ByteBpe.train([e.prompt + e.response for e in train])
    tok_dir = os.path.join(args.work, "tokenizer")
    tok.save(tok_dir, conf["model"]["max_seq_len"])
    report["tokenizer"] = {"vocab_size": tok.vocab_size, "merges": len(tok.merges),
                           "bos": tok.bos_id, "eos": tok.eos_id, "pad": tok.pad_id}
    timings["data_tokenizer_s"] = time.time() - t
    cpu["data_tokenizer_s"] = time.process_time() - c
    log(f"data + tokenizer: vocab {tok.vocab_size} ({timings['data_tokenizer_s']:.1f} s)")
    max_new = conf["max_new"]

    # 1. Base LM.
    t, c = time.time(), time.process_time()
    lmc = conf["lm"]
    torch.manual_seed(seed)
    lm = build(conf["model"], tok.vocab_size)
    lm_path = os.path.join(args.work, "lm.pt")
    if args.lm_onnx:
        onnx_weights.load_state(lm, os.path.join(args.lm_onnx, "model.onnx"))
        onnx_weights.check_parity(lm, args.lm_onnx)
        # The step and history of that LM come from the report beside its folder.
        with open(os.path.join(os.path.dirname(os.path.abspath(args.lm_onnx)), "report.json")) as f:
            prev = json.load(f).get("lm", {})
        res = {"state": copy.deepcopy(lm.state_dict()), "step": prev.get("chosen_step"), "history": prev.get("history", [])}
        lm_seconds = None
        log(f"lm: loaded from {args.lm_onnx} (step {res['step']}, parity checked)")
    elif args.resume_lm:
        # Re-runs the later stages on the LM an earlier run of the same command chose (its history comes along).
        ck = torch.load(lm_path)
        res = {"state": ck["state"], "step": ck.get("step"), "history": ck.get("history", [])}
        lm_seconds = ck.get("train_s")
        log(f"lm: resumed from {lm_path} (step {res['step']})")
    else:
        lo, hi = lmc["accept_sample"]
        res = train_lm(lm, tok, train, val, steps=lmc["steps"], batch=lmc["batch"], lr=lmc["lr"],
                       warmup=lmc["warmup"], eval_every=lmc["eval_every"], eval_from=lmc["eval_from"],
                       eval_problems=lmc["eval_problems"], max_new=max_new, seed=seed,
                       accept=lambda s, g: lo <= s <= hi and g <= lmc["max_greedy"], log=log)
        lm_seconds = time.time() - t
        torch.save({"config": conf["model"], "state": res["state"], "step": res["step"], "history": res["history"],
                    "train_s": lm_seconds}, lm_path)
    lm.load_state_dict(res["state"])
    timings["lm_train_s"] = lm_seconds
    cpu["lm_train_s"] = None if args.resume_lm or args.lm_onnx else time.process_time() - c
    report["lm"] = {"chosen_step": res["step"], "history": res["history"],
                    "params": sum(p.numel() for p in lm.parameters()), "resumed": bool(args.resume_lm or args.lm_onnx)}

    # 2. Base samples (T = 1), graded by the checker; test figures of the base LM.
    t, c = time.time(), time.process_time()
    sc = conf["samples"]
    samples_path = os.path.join(args.work, "samples.pkl")
    key = {"seed": seed, "lm_step": res["step"], "config": conf["samples"], "test_problems": conf["test_problems"]}
    cached = None
    if (args.resume_lm or args.lm_onnx) and os.path.exists(samples_path):
        with open(samples_path, "rb") as f:
            cached = pickle.load(f)
        if cached.get("key") != key:
            cached = None
    if cached is not None:
        # The samples an earlier run of the same command drew from the same LM (sampling is deterministic).
        report["lm"]["test"], rm_train, rm_val, rm_test = (cached[k] for k in ("lm_test", "train", "val", "test"))
        log(f"samples: reused {samples_path}")
    else:
        gen = torch.Generator().manual_seed(seed + 1)
        test_eval = test[:conf["test_problems"]]
        test_sample = sample_many(lm, tok, test_eval, 1, max_new, 1.0, False, gen)
        test_greedy = sample_many(lm, tok, test_eval, 1, max_new, 1.0, True, gen)
        report["lm"]["test"] = {"problems": len(test_eval), "sample_t1_accuracy": accuracy(test_sample),
                                "greedy_accuracy": accuracy(test_greedy),
                                "sample_t1_ended_with_eos": sum(r["ended"] for r in test_sample) / len(test_sample)}
        log(f"lm test: sample {accuracy(test_sample):.3f} greedy {accuracy(test_greedy):.3f}")
        rm_train = sample_many(lm, tok, train[:sc["train_problems"]], sc["k"], max_new, 1.0, False, gen)
        rm_val = sample_many(lm, tok, val[-sc["val_problems"]:], sc["k"], max_new, 1.0, False, gen)
        rm_test = sample_many(lm, tok, test[-sc["test_problems"]:], sc["k"], max_new, 1.0, False, gen)
        with open(samples_path, "wb") as f:
            pickle.dump({"key": key, "lm_test": report["lm"]["test"], "train": rm_train, "val": rm_val,
                         "test": rm_test}, f)
    timings["sampling_s"] = time.time() - t
    cpu["sampling_s"] = time.process_time() - c
    report["samples"] = {"train": len(rm_train), "validation": len(rm_val), "test": len(rm_test),
                         "train_accuracy": accuracy(rm_train), "test_accuracy": accuracy(rm_test)}
    log(f"samples: {len(rm_train)} train ({accuracy(rm_train):.3f} correct) ({timings['sampling_s']:.1f} s)")
    if args.until == "samples":
        return 0

    resume = args.resume_lm or bool(args.lm_onnx)

    # 3. The likelihood verifier over the LM (the named reward `likelihood`): a and b fitted on the graded samples.
    t, c = time.time(), time.process_time()
    marker = response_marker(tok, train + val + test)
    rm = LikelihoodVerifier(lm, marker)
    rres = fit_rm(rm, rm_train, rm_val, pad_id=tok.pad_id, eos_id=tok.eos_id, log=log)
    timings["likelihood_fit_s"] = time.time() - t
    cpu["likelihood_fit_s"] = time.process_time() - c
    report["likelihood_layout"] = {"lm_layers": rm.base_layers, "state_layers": rm.extra_layers, "state_dim": rm.state_dim}
    report["likelihood"] = {"kind": "likelihood_verifier", "a": rres["a"], "b": rres["b"], "history": rres["history"],
                            "test": evaluate_rm(rm, rm_test, tok.pad_id, tok.eos_id)}
    log(f"likelihood test: {report['likelihood']['test']}")

    # 4. The learned verifier (the named reward `verifier`, the default): a step model trained on checker labels,
    # its running sum of log sigma calibrated to log-odds like the likelihood verifier.
    t, c = time.time(), time.process_time()
    vc = conf["verifier"]
    torch.manual_seed(seed + 5)
    step_lm = step_model(lm)
    ver_path = os.path.join(args.work, "verifier.pt")
    ver_key = {"seed": seed, "lm_step": res["step"], "config": vc, "samples": conf["samples"]}
    cached = torch.load(ver_path) if resume and os.path.exists(ver_path) else None
    if cached is not None and cached.get("key") == ver_key:
        vres = cached["result"]
        log(f"verifier: reused {ver_path}")
    else:
        vres = train_verifier(step_lm, tok, marker, train, rm_train, rm_val, steps=vc["steps"], lr=vc["lr"],
                              warmup=vc["warmup"], eval_every=vc["eval_every"], seed=seed + 5, log=log, mix=vc["mix"])
        vres["train_s"] = time.time() - t
        torch.save({"key": ver_key, "result": vres}, ver_path)
    step_lm.load_state_dict(vres["state"])
    ver = StepVerifier(step_lm, marker)
    vfit = fit_rm(ver, rm_train, rm_val, pad_id=tok.pad_id, eos_id=tok.eos_id, log=log)
    timings["verifier_train_s"] = vres.get("train_s")
    cpu["verifier_train_s"] = time.process_time() - c
    report["verifier"] = {"kind": "learned_verifier", "chosen_step": vres["step"], "history": vres["history"],
                          "a": vfit["a"], "b": vfit["b"], "calibration": vfit["history"],
                          "params": sum(p.numel() for p in step_lm.parameters()),
                          "state_layers": ver.extra_layers,
                          "test": evaluate_verifier(ver, rm_test, tok.pad_id, tok.eos_id)}
    log(f"verifier test: {report['verifier']['test']}")
    if args.until == "verifier":
        return 0

    # 5. The aligned baseline policy (Transfer Q*): the LM fine-tuned on its own checker-correct samples (RFT).
    t, c = time.time(), time.process_time()
    ac = conf["aligned"]
    torch.manual_seed(seed + 7)
    aligned = build(conf["model"], tok.vocab_size)
    aligned.load_state_dict(res["state"])
    al_path = os.path.join(args.work, "aligned.pt")
    al_key = {"seed": seed, "lm_step": res["step"], "config": ac, "samples": conf["samples"],
              "test_problems": conf["test_problems"]}
    cached = torch.load(al_path) if resume and os.path.exists(al_path) else None
    if cached is not None and cached.get("key") == al_key:
        ares, a_test = cached["result"], cached["test"]
        log(f"aligned: reused {al_path}")
    else:
        ares = train_aligned(aligned, tok, rm_train, val, steps=ac["steps"], batch=ac["batch"], lr=ac["lr"],
                             eval_every=ac["eval_every"], eval_problems=ac["eval_problems"], max_new=max_new,
                             seed=seed + 7, log=log)
        aligned.load_state_dict(ares["state"])
        gen = torch.Generator().manual_seed(seed + 8)
        test_eval = test[:conf["test_problems"]]
        a_sample = sample_many(aligned, tok, test_eval, 1, max_new, 1.0, False, gen)
        a_greedy = sample_many(aligned, tok, test_eval, 1, max_new, 1.0, True, gen)
        a_test = {"problems": len(test_eval), "sample_t1_accuracy": accuracy(a_sample),
                  "greedy_accuracy": accuracy(a_greedy)}
        ares["train_s"] = time.time() - t
        torch.save({"key": al_key, "result": ares, "test": a_test}, al_path)
    aligned.load_state_dict(ares["state"])
    timings["aligned_train_s"] = ares.get("train_s")
    cpu["aligned_train_s"] = time.process_time() - c
    report["aligned"] = {"kind": "rejection_sampling_fine_tuning", "chosen_step": ares["step"], "history": ares["history"],
                         "train_samples": ares["train_samples"], "test": a_test}
    log(f"aligned test: {report['aligned']['test']}")
    if args.until == "aligned":
        return 0

    # 6. Value model (VAS) on the learned verifier's final scores, started from the verifier's step model: its step
    # logit z(s)[a] already ranks next tokens the way the return does.
    t, c = time.time(), time.process_time()
    for rows in (rm_train, rm_val, rm_test):
        for r, sc in zip(rows, final_scores(ver, rows, tok.pad_id, tok.eos_id)):
            r["reward"] = sc
    vc = conf["value"]
    vm = build(conf["model"], tok.vocab_size)
    vm.load_state_dict(res["state"])
    torch.manual_seed(seed + 3)
    vm.set_head("value")
    trunk = {k: v for k, v in step_lm.state_dict().items() if not k.startswith("output")}
    vm.load_state_dict({**vm.state_dict(), **trunk})
    a_v = vfit["a"]
    with torch.no_grad():
        # V(s, a) starts as a·z(s)[a] (the verifier's step logit, so the next tokens it rejects start low), with
        # the bias that puts the taken actions' mean value at the mean return.
        vm.output.weight.copy_(a_v * step_lm.output.weight)
        vm.output.bias.zero_()
        q, valid = taken_values(vm, rm_train[:256], tok.pad_id)
        mean_q = float((q * valid).sum() / valid.sum())
        vm.output.bias.fill_(sum(r["reward"] for r in rm_train) / len(rm_train) - mean_q)

    def step_gain(ids, mask):
        return a_v * -torch.nn.functional.softplus(-step_lm(ids, mask)[0])

    vres = train_value(vm, rm_train, rm_val, pad_id=tok.pad_id, steps=vc["steps"], batch=vc["batch"], lr=vc["lr"],
                       eval_every=vc["eval_every"], seed=seed + 3, log=log,
                       guide=(lm, step_gain, vc["top_k"], vc["distill_weight"]))
    vm.load_state_dict(vres["state"])
    timings["value_train_s"] = time.time() - t
    cpu["value_train_s"] = time.process_time() - c
    report["value"] = {"chosen_step": vres["step"], "history": vres["history"], "return": "verifier final score",
                       "test": evaluate_value(vm, rm_test, tok.pad_id)}
    log(f"value test: {report['value']['test']}")

    # 5. Export.
    t, c = time.time(), time.process_time()
    ctx = conf["model"]["max_seq_len"]
    prompt_ids = data.encode_prompt(tok, test[0].prompt)
    parity_ids = prompt_ids + tok.encode(test[0].response)
    models = (("lm", lm), ("likelihood", rm), ("verifier", ver), ("aligned", aligned), ("value", vm))
    for name, model in models:
        # The rewards' parity inputs reach into the response (the likelihood's score is constant over the prompt).
        ids = parity_ids[:len(prompt_ids) + 8] if name in ("likelihood", "verifier") else parity_ids[:12]
        export(model, tok, tok_dir, os.path.join(args.out, name), ctx, ids)
    timings["export_s"] = time.time() - t
    cpu["export_s"] = time.process_time() - c
    sizes = {name: os.path.getsize(os.path.join(args.out, name, "model.onnx")) for name, _ in models}
    report["onnx_bytes"] = sizes
    timings["total_s"] = sum(v for k, v in timings.items() if v is not None)
    report["timings_s"] = {k: None if v is None else round(v, 1) for k, v in timings.items()}
    report["cpu_s"] = {k: None if v is None else round(v, 1) for k, v in cpu.items()}
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(finite(report), f, indent=2, allow_nan=False)
        f.write("\n")
    model_card.write(args.out)
    log(f"done in {timings['total_s']:.0f} s; sizes {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
