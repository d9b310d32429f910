#!/usr/bin/python3
"""Self-test of the llama2.c import tooling. Exit 0 when every check passes, 1 otherwise.

    /usr/bin/python3 tools/python/selftest_import.py [--models DIR] [--keep DIR]

DIR defaults to ../shared/models next to the repository (the stories260K fixture). Without the fixture, only
the fixture-free checks run (random models: cache/padding invariants, checkpoint round trip, ONNX export).
Checks: greedy-200 from BOS in torch equals greedy-200.txt exactly; cached == uncached, padded/holey ==
unpadded; untied/tied checkpoint round trip and malformed-file errors; tokenizer.json layout; run.c encode ==
HF BPE-by-rank encode on a few hundred strings (and the documented inherent differences); the CLI's outputs,
ONNX contract and exit codes. Outputs go to a temporary directory (kept with --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))

RESULTS = []  # (ok, name, detail)


def record(ok: bool, name: str, detail: str = "") -> bool:
    RESULTS.append((ok, name, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)
    return ok


def check(name):
    """Decorator: run a check function, turn exceptions into a FAIL line with the reason."""
    def wrap(fn):
        def run(*a, **k):
            try:
                return fn(*a, **k)
            except Exception as e:  # noqa: BLE001 - a self-test reports, it does not crash
                record(False, name, f"{type(e).__name__}: {e}")
                traceback.print_exc(limit=3)
                return None
        return run
    return wrap


# --------------------------------------------------------------------------------------------- model checks

def small_models():
    import torch
    from decodealign_tools.llama import Llama, LlamaConfig
    torch.manual_seed(0)
    variants = {
        "gqa-interleaved-lm": dict(n_kv_heads=2, rope_interleaved=True),
        "mha-halfsplit-untied-lm": dict(n_kv_heads=4, rope_interleaved=False, tie_embeddings=False),
        "mqa-score": dict(n_kv_heads=1, head="score"),
        "gqa-value": dict(n_kv_heads=2, head="value"),
    }
    return {k: Llama(LlamaConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=48, vocab_size=300, max_seq_len=64,
                                 **kw)).eval() for k, kw in variants.items()}


@check("torch invariants on random models")
def check_random_models():
    from decodealign_tools import checks
    for name, m in small_models().items():
        fails = checks.run_all(m)
        record(not fails, f"cache/padding invariants: {name}", "; ".join(fails) or "cached==uncached, "
               "padded/holey==unpadded, masked rows finite")


@check("llama2.c checkpoint round trip")
def check_roundtrip(tmp):
    import torch
    from decodealign_tools.llama import Llama, LlamaConfig
    from decodealign_tools.llama2c import load_llama2c, write_llama2c
    for tied in (True, False):
        torch.manual_seed(1)
        m = Llama(LlamaConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=40, vocab_size=300,
                              max_seq_len=32, rope_interleaved=True, tie_embeddings=tied)).eval()
        p = os.path.join(tmp, f"rt_{'tied' if tied else 'untied'}.bin")
        write_llama2c(m, p)
        m2, h = load_llama2c(p)
        ids = torch.randint(0, 300, (2, 9))
        diff = float((m(ids)[0] - m2(ids)[0]).abs().max())
        ok = h.shared_classifier == tied and diff == 0.0 and \
            (m2.output.weight is m2.tok_embeddings.weight) == tied
        record(ok, f"checkpoint round trip ({'tied' if tied else 'untied, negative vocab_size'})",
               f"header vocab sign -> shared={h.shared_classifier}, max output diff {diff}")


@check("malformed checkpoint errors")
def check_bad_checkpoints(tmp):
    from decodealign_tools.llama2c import CheckpointError, load_llama2c
    src = os.path.join(tmp, "rt_untied.bin")
    data = open(src, "rb").read()
    cases = {
        "truncated": (data[:len(data) // 2], "truncated: array"),
        "truncated classifier": (data[:-4], "array 'wcls'"),
        "trailing bytes": (data + b"\0" * 8, "trailing bytes"),
        "short header": (data[:10], "truncated header"),
        "bad header": (b"\xff" * 28 + data[28:], "malformed header"),
    }
    for name, (blob, want) in cases.items():
        p = os.path.join(tmp, "bad.bin")
        open(p, "wb").write(blob)
        try:
            load_llama2c(p)
            record(False, f"checkpoint error: {name}", "no error raised")
        except CheckpointError as e:
            record(want in str(e) and "\n" not in str(e), f"checkpoint error: {name}", str(e))


@check("ONNX export of random models")
def check_export_random(tmp):
    import onnx
    from decodealign_tools.export import export_decoder
    for name, m in small_models().items():
        d = os.path.join(tmp, "export_" + name)
        export_decoder(m, d, special_tokens=dict(bos_token_id=1, eos_token_id=2, pad_token_id=0))
        ok, why = contract_ok(onnx.load(os.path.join(d, "model.onnx")), m.cfg)
        gc = json.load(open(os.path.join(d, "genai_config.json")))
        head_ok = (gc.get("decodealign", {}).get("head") == m.cfg.head) if m.cfg.head != "lm" else \
            "decodealign" not in gc
        record(ok and head_ok, f"export contract: {name}", why if not ok else "names, dtypes, dims, checker")
        ok_ref, why_ref = reference_eval(os.path.join(d, "model.onnx"), m)
        if ok_ref is not None:
            record(ok_ref, f"onnx reference evaluator vs torch: {name}", why_ref)
        elif name == "gqa-interleaved-lm":
            print(f"SKIP  onnx reference evaluator ({why_ref})")


def contract_ok(proto, cfg):
    """Compare graph inputs/outputs with the decoder contract; returns (ok, reason)."""
    import onnx
    from decodealign_tools.export import OUTPUT_NAMES
    onnx.checker.check_model(proto, full_check=True)
    F, I = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    kvh, hs, V = cfg.n_kv_heads, cfg.head_size, cfg.vocab_size
    want_in = [("input_ids", I, ["batch_size", "sequence_length"]),
               ("attention_mask", I, ["batch_size", "total_sequence_length"]),
               ("position_ids", I, ["batch_size", "sequence_length"])]
    out = OUTPUT_NAMES[cfg.head]
    want_out = [(out, F, ["batch_size", "sequence_length"] + ([] if cfg.head == "score" else [V]))]
    for i in range(cfg.n_layers):
        for kind in ("key", "value"):
            want_in.append((f"past_key_values.{i}.{kind}", F, ["batch_size", kvh, "past_sequence_length", hs]))
            want_out.append((f"present.{i}.{kind}", F, ["batch_size", kvh, "total_sequence_length", hs]))
    got = lambda vis: [(v.name, v.type.tensor_type.elem_type,
                        [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in vis]
    if got(proto.graph.input) != want_in:
        return False, f"inputs {got(proto.graph.input)} != {want_in}"
    if got(proto.graph.output) != want_out:
        return False, f"outputs {got(proto.graph.output)} != {want_out}"
    domains = {n.domain for n in proto.graph.node} - {"", "ai.onnx"}
    if domains or [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] != [17]:
        return False, f"non-standard domains {domains} or opset {proto.opset_import}"
    return True, ""


def reference_eval(path, model):
    """Run the ONNX graph in onnx.reference (onnx >= 1.13) on an empty-past prefill and a chunk after a past,
    compare with torch. Returns (None, why) when the evaluator is unavailable."""
    try:
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        import onnx
        return None, f"onnx {onnx.__version__} has no onnx.reference; torch parity + ONNX Runtime tests instead"
    import numpy as np
    import torch
    sess = ReferenceEvaluator(path)
    cfg = model.cfg
    g = torch.Generator().manual_seed(3)
    worst = 0.0
    past = model.empty_past(2)
    mask = torch.tensor([[0, 1, 1, 1], [1, 1, 0, 1]])
    for step, (ids, pos) in enumerate([(torch.randint(0, cfg.vocab_size, (2, 4), generator=g),
                                        torch.tensor([[0, 0, 1, 2], [0, 1, 2, 2]])),
                                       (torch.randint(0, cfg.vocab_size, (2, 2), generator=g),
                                        torch.tensor([[3, 4], [3, 4]]))]):
        if step:
            mask = torch.cat([mask, torch.ones(2, 2, dtype=torch.int64)], 1)
        feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "position_ids": pos.numpy()}
        for i, (k, v) in enumerate(past):
            feeds[f"past_key_values.{i}.key"], feeds[f"past_key_values.{i}.value"] = k.numpy(), v.numpy()
        got = sess.run(None, feeds)
        with torch.no_grad():
            out, past = model(ids, mask, pos, past)
        ref = [out] + [t for kv in past for t in kv]
        worst = max([worst] + [float(np.abs(a - r.numpy()).max()) for a, r in zip(got, ref)])
    return worst < 1e-4, f"max |onnx - torch| = {worst:.2e}"


# ------------------------------------------------------------------------------------------ fixture checks

@check("stories260K greedy-200")
def check_greedy(fx, tj):
    from decodealign_tools.llama import greedy_generate
    from decodealign_tools.llama2c import load_llama2c
    from decodealign_tools.sp_tokenizer import HfBpeReference, read_llama2c_tokenizer, runc_decode
    t0 = time.time()
    model, h = load_llama2c(os.path.join(fx, "stories260K.bin"))
    tok = read_llama2c_tokenizer(os.path.join(fx, "tok512.bin"), h.vocab_size)
    ids = greedy_generate(model, [1], 200)
    ref = open(os.path.join(fx, "greedy-200.txt"), "rb").read()
    text = runc_decode(tok, ids)
    ok = text == ref
    detail = f"{len(ids)} tokens in {time.time() - t0:.1f}s"
    if not ok:
        n = next((i for i in range(min(len(text), len(ref))) if text[i] != ref[i]), min(len(text), len(ref)))
        detail += f"; first difference at byte {n}: got {text[n:n + 30]!r}, want {ref[n:n + 30]!r}"
    record(ok, "torch greedy-200 from BOS == greedy-200.txt (run.c decode)", detail)
    hf_text = HfBpeReference(tj).decode(ids).encode("utf-8")
    record(hf_text == ref, "greedy-200 ids decoded with the converted tokenizer.json == greedy-200.txt")
    return model, tok


@check("stories260K invariants")
def check_fixture_invariants(model):
    from decodealign_tools import checks
    fails = checks.run_all(model)
    record(not fails, "stories260K cache/padding invariants", "; ".join(fails) or
           "cached==uncached (4 chunkings), padded/holey==unpadded, masked rows finite")


@check("tokenizer.json layout")
def check_layout(tj, models_dir):
    ref_path = os.path.join(models_dir, "tiny-random-llama-fp16", "tokenizer.json")
    if not os.path.isfile(ref_path):
        print("SKIP  tokenizer.json layout (tiny-random-llama-fp16 not present)")
        return
    ref = json.load(open(ref_path, encoding="utf-8"))
    diffs = [k for k in ref if k != "model" and ref[k] != tj.get(k)]
    diffs += [f"keys {list(tj)} vs {list(ref)}"] if list(tj) != list(ref) else []
    rm, m = ref["model"], tj["model"]
    diffs += [f"model.{k}" for k in rm if k not in ("vocab", "merges") and rm[k] != m.get(k)]
    diffs += ["model keys"] if list(rm) != list(m) else []
    diffs += ["merges format"] if not all(isinstance(x, list) and len(x) == 2 for x in m["merges"]) else []
    vocab_ok = all(m["vocab"].get(s) == i for s, i in list(rm["vocab"].items())[:259])
    record(not diffs and vocab_ok, "tokenizer.json matches the Llama-2 layout of tiny-random-llama-fp16",
           f"differences: {diffs}" if diffs else f"{len(m['vocab'])} tokens, {len(m['merges'])} merges; "
           "specials and byte tokens at the same ids")


def corpus(model, seed=0):
    """TinyStories-like samples from the model, their sentences, hand-written edge cases, random soups."""
    import torch
    from decodealign_tools.sp_tokenizer import SPIECE_SPACE
    rng = random.Random(seed)
    texts = []
    if model is not None:
        g = torch.Generator().manual_seed(seed)
        B, steps = 40, 72
        ids = torch.ones(B, 1, dtype=torch.int64)
        out, past = model(ids)
        rows = [[] for _ in range(B)]
        with torch.no_grad():
            for t in range(steps):
                probs = torch.softmax(out[:, -1] / 1.0, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=g)
                for b in range(B):
                    rows[b].append(int(nxt[b]))
                out, past = model(nxt, torch.ones(B, t + 2, dtype=torch.int64),
                                  torch.full((B, 1), t + 1), past)
        texts.extend(rows)  # decoded by the caller (needs the tokenizer)
    hand = [
        "", " ", "  ", "\n", "a", "Once upon a time, there was a little girl named Lily.",
        "Lily's mom said, \"Lily, let's go to the park.\"", "  leading spaces", "trailing spaces  ",
        "tab\tseparated\tvalues", "line one\nline two\r\nline three", "UPPER lower MiXeD", "don't won't can't",
        "12345 67890 3.14159 1,000,000 2024-11-23 10:30", "(parens) [brackets] {braces} <angles>",
        "e-mail: someone@example.com, url: https://example.com/a?b=c&d=e#f", "$100 + 50% = ~€150 * 2 / 3",
        "Café crème brûlée, naïve façade, jalapeño, Zürich, smørrebrød", "“Curly quotes” and ‘single’ ones… — –",
        "Привет, мир! Γειά σου κόσμε", "日本語のテキストと中文字符", "emoji: 😀🎉👍🏽❤️", "e\u0301 (combining accent)",
        "ligature ﬁ and NBSP\u00a0here and hair\u200aspace and ZWSP\u200bhere", "مرحبا بالعالم", "x" * 50,
        "the the the the", " The end.", "!!!???...,,,;;;:::", "a\\b/c|d_e^f`g~h", "\u2014\u2014\u2014", "Ω≈ç√∫˜µ≤≥÷",
        "Tom and Sue played with a big red ball. They were very happy!",
    ]
    texts.extend(hand)
    pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3 +
            list(" " * 20 + "\t\n.,!?;:'\"-()[]{}<>/\\@#$%^&*_+=~`|") +
            list("éñüßçøåæœ“”‘’—–…€™\u00a0\u200aПриветγειά日本語中文😀🎉\u0301ﬁمرحبا") +
            ["the", " the", "Lily", " ball", "ing", " was", "ed", " play", "<s", "unk>"])
    for _ in range(160):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(1, 40)))
        texts.append(s)
    return texts


@check("tokenizer equivalence")
def check_tokenizer_equivalence(tok, tj, model):
    from decodealign_tools.sp_tokenizer import HfBpeReference, runc_decode, runc_encode
    hf = HfBpeReference(tj)
    raw = corpus(model)
    texts = []
    for t in raw:
        if isinstance(t, list):  # sampled ids: the story, and each of its sentences
            story = runc_decode(tok, t).decode("utf-8", errors="ignore")
            texts.append(story)
            texts.extend(s.strip() + "." for s in story.split(".") if s.strip())
        else:
            texts.append(t)
    specials = ("<s>", "</s>", "<unk>")
    eligible = [t for t in texts if not any(s in t for s in specials) and "\0" not in t and "\u2581" not in t]
    mismatches = [t for t in eligible if runc_encode(tok, t) != hf.encode(t)]
    record(not mismatches, "run.c encode == HF BPE-by-rank encode",
           f"{len(eligible) - len(mismatches)}/{len(eligible)} strings identical"
           + (f"; first mismatch {mismatches[0]!r}" if mismatches else ""))
    bad_rt = [t for t in eligible if hf.decode(hf.encode(t)) != t]
    record(not bad_rt, "HF decode(encode(s)) == s", f"{len(eligible) - len(bad_rt)}/{len(eligible)} strings"
           + (f"; first failure {bad_rt[0]!r}" if bad_rt else ""))
    # The inherent differences, pinned so a change in either side is noticed.
    lt = hf.encode("a <s> b")
    record(1 in lt and 1 not in runc_encode(tok, "a <s> b"),
           "documented difference: literal '<s>' is a special token for HF, plain text for run.c")
    record(hf.encode("a\u2581b") != runc_encode(tok, "a\u2581b"),
           "documented difference: literal U+2581 is a space for HF, byte fallback for run.c")
    record(runc_encode(tok, "ab\0cd") == runc_encode(tok, "ab"),
           "documented difference: run.c stops at NUL (C string), HF encodes it as <0x00>")


@check("CLI")
def check_cli(fx, tmp, models_dir):
    import onnx
    from decodealign_tools.llama2c import read_header
    cli = os.path.join(HERE, "import_llama2c.py")
    ck, tk = os.path.join(fx, "stories260K.bin"), os.path.join(fx, "tok512.bin")
    out = os.path.join(tmp, "cli_out")
    t0 = time.time()
    p = subprocess.run([sys.executable, cli, "--checkpoint", ck, "--tokenizer", tk, "--out", out],
                       capture_output=True, text=True)
    dt = time.time() - t0
    if not record(p.returncode == 0, "CLI import of stories260K", f"{dt:.1f}s; {p.stdout.strip()}{p.stderr.strip()}"):
        return None
    files = ["model.onnx", "genai_config.json", "config.json", "tokenizer.json", "tokenizer_config.json",
             "special_tokens_map.json"]
    missing = [f for f in files if not os.path.isfile(os.path.join(out, f))]
    record(not missing, "CLI wrote all files", f"missing {missing}" if missing else ", ".join(files))
    h = read_header(open(ck, "rb").read(28))
    gc = json.load(open(os.path.join(out, "genai_config.json")))["model"]
    dec = gc["decoder"]
    want = dict(bos_token_id=1, eos_token_id=2, context_length=h.seq_len, vocab_size=512, type="llama")
    got = {k: gc[k] for k in want}
    want_dec = dict(filename="model.onnx", head_size=8, hidden_size=64, num_attention_heads=8,
                    num_hidden_layers=5, num_key_value_heads=4)
    got_dec = {k: dec[k] for k in want_dec}
    ref_gc_path = os.path.join(models_dir, "tiny-random-llama-fp16", "genai_config.json")
    shape_ok = True
    if os.path.isfile(ref_gc_path):
        ref = json.load(open(ref_gc_path))["model"]
        shape_ok = sorted(ref) == sorted(gc) and sorted(ref["decoder"]) == sorted(dec) and \
            ref["decoder"]["inputs"] == dec["inputs"] and ref["decoder"]["outputs"] == dec["outputs"]
    record(got == want and got_dec == want_dec and shape_ok, "genai_config.json", f"{got} {got_dec}"
           + ("" if shape_ok else "; key layout differs from tiny-random-llama-fp16"))
    from decodealign_tools.llama2c import load_llama2c
    m, _ = load_llama2c(ck)
    ok, why = contract_ok(onnx.load(os.path.join(out, "model.onnx")), m.cfg)
    record(ok, "model.onnx follows the decoder contract", why or "inputs/outputs/dims/opset 17/checker")
    tj = json.load(open(os.path.join(out, "tokenizer.json"), encoding="utf-8"))
    return tj


@check("CLI errors")
def check_cli_errors(fx, tmp):
    cli = os.path.join(HERE, "import_llama2c.py")
    ck, tk = os.path.join(fx, "stories260K.bin"), os.path.join(fx, "tok512.bin")
    data, tdata = open(ck, "rb").read(), open(tk, "rb").read()
    trunc = os.path.join(tmp, "trunc.bin")
    open(trunc, "wb").write(data[:600000])
    # A tokenizer cut at a record boundary: well-formed, but 511 tokens for a 512-token checkpoint.
    import struct
    off = 4
    for _ in range(511):
        off += 8 + struct.unpack_from("<i", tdata, off + 4)[0]
    short_tok = os.path.join(tmp, "tok511.bin")
    open(short_tok, "wb").write(tdata[:off])
    cases = [("missing checkpoint", [os.path.join(tmp, "nope.bin"), tk], "not found"),
             ("missing tokenizer", [ck, os.path.join(tmp, "nope.bin")], "not found"),
             ("truncated checkpoint", [trunc, tk], "truncated: array"),
             ("tokenizer/vocab mismatch", [ck, short_tok], "holds 511 tokens but the checkpoint's vocab_size is 512")]
    for name, (c, t), want in cases:
        p = subprocess.run([sys.executable, cli, "--checkpoint", c, "--tokenizer", t, "--out",
                            os.path.join(tmp, "err_out")], capture_output=True, text=True)
        err = p.stderr.strip()
        record(p.returncode == 2 and want in err and len(err.splitlines()) == 1, f"CLI error: {name}",
               f"exit {p.returncode}: {err}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=os.path.join(os.path.dirname(REPO), "shared", "models"),
                    help="folder holding stories260K/ (default: ../shared/models beside the repository)")
    ap.add_argument("--keep", help="write outputs here instead of a temporary folder, and keep them")
    args = ap.parse_args()
    try:
        import torch
        import onnx  # noqa: F401
    except ImportError as e:
        print(f"FAIL  prerequisites: {e} (use /usr/bin/python3 with python3-torch and python3-onnx)")
        return 1
    torch.set_num_threads(1)
    t0 = time.time()
    tmp = args.keep or tempfile.mkdtemp(prefix="decodealign_selftest_")
    os.makedirs(tmp, exist_ok=True)
    try:
        check_random_models()
        check_roundtrip(tmp)
        check_bad_checkpoints(tmp)
        check_export_random(tmp)
        fx = os.path.join(args.models, "stories260K")
        if os.path.isfile(os.path.join(fx, "stories260K.bin")):
            tj = check_cli(fx, tmp, args.models)
            check_cli_errors(fx, tmp)
            if tj is not None:
                check_layout(tj, args.models)
                got = check_greedy(fx, tj)
                if got:
                    model, tok = got
                    check_fixture_invariants(model)
                    check_tokenizer_equivalence(tok, tj, model)
        else:
            print(f"SKIP  fixture checks: {fx} not found")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = [r for r in RESULTS if not r[0]]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed in {time.time() - t0:.1f}s"
          + (f"; FAILED: {', '.join(r[1] for r in failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
