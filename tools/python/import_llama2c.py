#!/usr/bin/python3
"""Import a llama2.c checkpoint + tokenizer as an ONNX decoder directory DecodeAlign can load.

    /usr/bin/python3 tools/python/import_llama2c.py --checkpoint stories260K.bin --tokenizer tok512.bin --out DIR

Writes DIR/model.onnx, genai_config.json, config.json, tokenizer.json, tokenizer_config.json,
special_tokens_map.json. Exit codes: 0 success, 2 bad input (one-line "error: ..." on stderr), 1 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BOS, EOS, PAD = 1, 2, 0  # llama2.c: <s>=1, </s>=2; no pad token, so <unk> as in Llama-2's HF config


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Import a llama2.c checkpoint and tokenizer to ONNX (DecodeAlign layout).")
    ap.add_argument("--checkpoint", required=True, help="llama2.c version-0 checkpoint (.bin)")
    ap.add_argument("--tokenizer", required=True, help="llama2.c tokenizer (tok*.bin)")
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--check", action="store_true",
                    help="also run the torch cache/padding invariants on the imported model")
    args = ap.parse_args(argv)

    for what, path in (("checkpoint", args.checkpoint), ("tokenizer", args.tokenizer)):
        if not os.path.isfile(path):
            print(f"error: {what} file not found: {path}", file=sys.stderr)
            return 2

    t0 = time.time()
    try:
        import torch
    except ImportError:
        print("error: PyTorch is missing; on Debian: apt-get install python3-torch python3-onnx "
              "libopenblas0-pthread (and run with /usr/bin/python3)", file=sys.stderr)
        return 2
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("error: the onnx package is missing; on Debian: apt-get install python3-onnx", file=sys.stderr)
        return 2
    # Tiny models; a single thread keeps a shared machine responsive and costs nothing here.
    torch.set_num_threads(1)

    from decodealign_tools.export import export_decoder
    from decodealign_tools.llama2c import CheckpointError, load_llama2c
    from decodealign_tools.sp_tokenizer import TokenizerError, read_llama2c_tokenizer, write_hf_tokenizer

    try:
        model, header = load_llama2c(args.checkpoint)
        tok = read_llama2c_tokenizer(args.tokenizer, vocab_size=header.vocab_size)
    except (CheckpointError, TokenizerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        export_decoder(model, args.out, special_tokens=dict(bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD),
                       context_length=header.seq_len)
        write_hf_tokenizer(tok, args.out, model_max_length=header.seq_len)
    except TokenizerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write {args.out}: {e}", file=sys.stderr)
        return 2

    if args.check:
        from decodealign_tools import checks
        fails = checks.run_all(model)
        if fails:
            for f in fails:
                print(f"check failed: {f}", file=sys.stderr)
            return 1

    n_params = sum(p.numel() for p in model.parameters())
    print(f"imported {os.path.basename(args.checkpoint)}: dim={header.dim} layers={header.n_layers} "
          f"heads={header.n_heads}/{header.n_kv_heads} vocab={header.vocab_size} ctx={header.seq_len} "
          f"({n_params:,} params, {'tied' if header.shared_classifier else 'untied'} classifier) "
          f"-> {args.out} in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
