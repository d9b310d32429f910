"""Write a tiny random-weight decoder (head lm, score or value) with a byte-level tokenizer, for C# tests of the
reward/value sessions and of error handling. Also writes expected.json: PyTorch's outputs at every position of a
fixed input, so a test can compare ONNX Runtime's numbers with PyTorch's.

    /usr/bin/python3 tools/python/make_tiny_decoder.py --head score --out /tmp/rm [--nan] [--seed 3]
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decodealign_tools.byte_tokenizer import write_byte_tokenizer  # noqa: E402
from decodealign_tools.export import export_decoder  # noqa: E402
from decodealign_tools.llama import Llama, LlamaConfig  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--head", choices=["lm", "score", "value"], default="lm")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--nan", action="store_true", help="poison the head weights so every output is NaN")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    vocab = write_byte_tokenizer(args.out)
    cfg = LlamaConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=64, vocab_size=len(vocab),
                      max_seq_len=args.context, head=args.head)
    model = Llama(cfg).eval()
    if args.head != "lm":
        with torch.no_grad():
            # A fresh head is nearly zero; make outputs vary so tests can tell positions apart.
            torch.nn.init.normal_(model.output.weight, std=0.5)
            model.output.bias.fill_(0.25)
    if args.nan:
        with torch.no_grad():
            model.norm.weight.fill_(float("nan"))
    specials = {"bos_token_id": vocab["<|bos|>"], "eos_token_id": vocab["<|eos|>"], "pad_token_id": vocab["<|pad|>"]}
    export_decoder(model, args.out, special_tokens=specials, context_length=args.context)

    ids = [vocab["<|bos|>"], 72, 105, 33, 32, 50, 43, 50, 61, 52]
    with torch.no_grad():
        t = torch.tensor([ids])
        out, _ = model(t, torch.ones_like(t), torch.arange(len(ids)).unsqueeze(0), None)
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump({"ids": ids, "outputs": out[0].tolist()}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
