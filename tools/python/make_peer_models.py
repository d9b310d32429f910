#!/usr/bin/python3
"""Writes the models the peer benchmark runs (benchmarks/DecodeAlign.Benchmarks, verb `peers`), each as ONNX (the
repository's layout, which DecodeAlign and ONNX Runtime GenAI load) and as GGUF (F32, for LLamaSharp/llama.cpp),
from the same weights:

    /usr/bin/python3 tools/python/make_peer_models.py --out benchmarks/peer-models [--shared ../shared] [--only NAMES]

  arith        the built-in models/arith/lm: its ONNX stays in place; weights are read back from model.onnx
               (checked against its parity.json) and written as DIR/arith/model.gguf
  stories260K  ../shared/models/stories260K imported to DIR/stories260K (ONNX, tokenizer) plus model.gguf;
               skipped with a message when the shared fixtures are absent
  llama100m    a ~110M-parameter Llama-architecture decoder with random weights (seeded; dim 768, 12 layers,
               12 heads, FFN 2048, vocabulary 32,000, tied classifier, half-split RoPE) with a byte-level
               tokenizer padded to 32,000 tokens, in DIR/llama100m

Each folder gets peer.json: {"onnx_dir", "gguf", "weight_bytes", "params"}. Generated files are large and derived
from fixtures that may not be redistributed: DIR must be git-ignored (benchmarks/peer-models/ is).
Exit codes: 0 done, 2 bad input, 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "forge"))

MODELS = ("arith", "stories260K", "llama100m")


def _manifest(folder: str, onnx_dir: str, gguf: str, model) -> None:
    params = sum(p.numel() for p in model.parameters())
    with open(os.path.join(folder, "peer.json"), "w") as f:
        json.dump({"onnx_dir": os.path.abspath(onnx_dir), "gguf": os.path.abspath(gguf),
                   "weight_bytes": 4 * params, "params": params}, f, indent=2)
        f.write("\n")


def make_arith(out: str) -> str:
    from decodealign_tools.gguf_llama import write_llama_gguf
    from decodealign_tools.llama import Llama, LlamaConfig
    from onnx_weights import check_parity, load_state

    src = os.path.join(REPO, "models", "arith", "lm")
    with open(os.path.join(src, "config.json")) as f:
        conf = json.load(f)
    d = dict(conf["decodealign"])
    d.pop("head")
    model = Llama(LlamaConfig(head="lm", **d)).eval()
    load_state(model, os.path.join(src, "model.onnx"))
    err = check_parity(model, src)
    folder = os.path.join(out, "arith")
    os.makedirs(folder, exist_ok=True)
    gguf = os.path.join(folder, "model.gguf")
    write_llama_gguf(model, gguf, "arith-lm", conf["bos_token_id"], conf["eos_token_id"], conf["pad_token_id"])
    _manifest(folder, src, gguf, model)
    return f"arith: weights from model.onnx match parity.json to {err:.1e}"


def make_stories(out: str, shared: str) -> str:
    from decodealign_tools.export import export_decoder
    from decodealign_tools.gguf_llama import write_llama_gguf
    from decodealign_tools.llama2c import load_llama2c
    from decodealign_tools.sp_tokenizer import read_llama2c_tokenizer, write_hf_tokenizer

    src = os.path.join(shared, "models", "stories260K")
    if not os.path.isfile(os.path.join(src, "stories260K.bin")):
        return f"stories260K: skipped, {src} is absent"
    model, header = load_llama2c(os.path.join(src, "stories260K.bin"))
    tok = read_llama2c_tokenizer(os.path.join(src, "tok512.bin"), vocab_size=header.vocab_size)
    folder = os.path.join(out, "stories260K")
    export_decoder(model, folder, special_tokens=dict(bos_token_id=1, eos_token_id=2, pad_token_id=0),
                   context_length=header.seq_len)
    write_hf_tokenizer(tok, folder, model_max_length=header.seq_len)
    gguf = os.path.join(folder, "model.gguf")
    write_llama_gguf(model, gguf, "stories260K", 1, 2, None, header.seq_len)
    _manifest(folder, folder, gguf, model)
    return "stories260K: imported"


def _byte_tokenizer_merges(n: int):
    """n distinct two-character merges of byte-level symbols, enough to pad the vocabulary to a real size."""
    from decodealign_tools.byte_tokenizer import bytes_to_unicode

    chars = [bytes_to_unicode()[b] for b in range(256)]
    merges = []
    for a in chars:
        for b in chars:
            if len(merges) == n:
                return merges
            merges.append((a, b))
    return merges


def make_llama100m(out: str, seed: int = 12) -> str:
    import torch
    from decodealign_tools.byte_tokenizer import write_byte_tokenizer
    from decodealign_tools.export import export_decoder
    from decodealign_tools.gguf_llama import write_llama_gguf
    from decodealign_tools.llama import Llama, LlamaConfig

    vocab, ctx = 32000, 512
    torch.manual_seed(seed)
    cfg = LlamaConfig(dim=768, n_layers=12, n_heads=12, n_kv_heads=12, hidden_dim=2048, vocab_size=vocab,
                      max_seq_len=ctx, rope_interleaved=False, tie_embeddings=True)
    model = Llama(cfg).eval()
    folder = os.path.join(out, "llama100m")
    specials = ("<|bos|>", "<|eos|>", "<|pad|>")
    tv = write_byte_tokenizer(folder, merges=_byte_tokenizer_merges(vocab - 256 - len(specials)), specials=specials)
    bos, eos, pad = (tv[s] for s in specials)
    export_decoder(model, folder, special_tokens=dict(bos_token_id=bos, eos_token_id=eos, pad_token_id=pad),
                   context_length=ctx)
    gguf = os.path.join(folder, "model.gguf")
    write_llama_gguf(model, gguf, "llama100m-random", bos, eos, pad, ctx)
    _manifest(folder, folder, gguf, model)
    return f"llama100m: {sum(p.numel() for p in model.parameters()):,} parameters"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write the peer benchmark's models as ONNX and GGUF.")
    ap.add_argument("--out", required=True, help="output folder (git-ignored)")
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"), help="the shared fixtures folder")
    ap.add_argument("--only", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    bad = [n for n in names if n not in MODELS]
    if bad:
        print(f"error: unknown model(s) {bad}; choose from {MODELS}", file=sys.stderr)
        return 2
    try:
        import torch
        torch.set_num_threads(1)  # a shared machine; the export is not the bottleneck
    except ImportError:
        print("error: PyTorch is missing (run with /usr/bin/python3)", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        t0 = time.time()
        msg = {"arith": lambda: make_arith(args.out), "stories260K": lambda: make_stories(args.out, args.shared),
               "llama100m": lambda: make_llama100m(args.out)}[n]()
        print(f"{msg} ({time.time() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
