"""Export a `Llama` decoder to ONNX in the Hugging Face Optimum / ONNX Runtime GenAI decoder layout.

Contract (fp32, opset 17, standard ONNX ops only, so the ONNX Runtime CPU package runs it):

inputs
  input_ids                 int64   [batch_size, sequence_length]
  attention_mask            int64   [batch_size, total_sequence_length]      1 = real token, 0 = padding
  position_ids              int64   [batch_size, sequence_length]
  past_key_values.N.key     float32 [batch_size, num_kv_heads, past_sequence_length, head_size]   N = 0..L-1
  past_key_values.N.value   float32 [batch_size, num_kv_heads, past_sequence_length, head_size]
outputs
  logits  float32 [batch_size, sequence_length, vocab]   (head "lm")
  scores  float32 [batch_size, sequence_length]          (head "score")
  values  float32 [batch_size, sequence_length, vocab]   (head "value")
  present.N.key / present.N.value  float32 [batch_size, num_kv_heads, total_sequence_length, head_size]
                                   = concat(past, new) along the sequence axis
  (a module may declare `extra_outputs` {name: dims} and a `forward_all` returning (output, [extras], presents);
  they are exported after the head's output, e.g. the forge verifier's candidate_scores [batch, seq, vocab])

num_kv_heads, head_size (and vocab) are fixed dims; the others are symbolic. past_sequence_length may be 0.
Beside model.onnx we write genai_config.json (the ONNX Runtime GenAI shape, plus "decodealign": {"head": ...}
for non-"lm" heads) and an HF-like config.json.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from typing import Dict, List, Optional

import onnx
import torch
import torch.nn as nn

from .llama import HEADS, Llama

OPSET = 17
OUTPUT_NAMES = {"lm": "logits", "score": "scores", "value": "values"}


def io_names(n_layers: int, head: str, extra_outputs=()) -> tuple:
    """(input names, output names) of the exported graph, in order (extra outputs after the head's, before presents)."""
    ins = ["input_ids", "attention_mask", "position_ids"]
    outs = [OUTPUT_NAMES[head], *extra_outputs]
    for i in range(n_layers):
        ins += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outs += [f"present.{i}.key", f"present.{i}.value"]
    return ins, outs


class _FlatSignature(nn.Module):
    """Adapter: torch.onnx.export needs flat tensor arguments/results, the model takes/returns (k, v) pairs."""

    def __init__(self, model: Llama) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        if getattr(self.model, "extra_outputs", None):
            out, extras, presents = self.model.forward_all(input_ids, attention_mask, position_ids, past)
        else:
            (out, presents), extras = self.model(input_ids, attention_mask, position_ids, past), []
        flat: List[torch.Tensor] = [out, *extras]
        for k, v in presents:
            flat += [k, v]
        return tuple(flat)


def _dim_names(cfg, head: str) -> Dict[str, List]:
    """Exact [dim...] per graph input/output: strings are symbolic dims, ints fixed."""
    kvh, hs, V = cfg.n_kv_heads, cfg.head_size, cfg.vocab_size
    dims: Dict[str, List] = {
        "input_ids": ["batch_size", "sequence_length"],
        "attention_mask": ["batch_size", "total_sequence_length"],
        "position_ids": ["batch_size", "sequence_length"],
        "logits": ["batch_size", "sequence_length", V],
        "scores": ["batch_size", "sequence_length"],
        "values": ["batch_size", "sequence_length", V],
    }
    for i in range(cfg.n_layers):
        for kind in ("key", "value"):
            dims[f"past_key_values.{i}.{kind}"] = ["batch_size", kvh, "past_sequence_length", hs]
            dims[f"present.{i}.{kind}"] = ["batch_size", kvh, "total_sequence_length", hs]
    return dims


def _set_shapes(proto: onnx.ModelProto, dims: Dict[str, List]) -> None:
    """Overwrite graph input/output shapes with the contract's dim names (the exporter invents its own for
    outputs, e.g. 'Concatpresent.0.key_dim_2')."""
    for vi in list(proto.graph.input) + list(proto.graph.output):
        want = dims[vi.name]
        shape = vi.type.tensor_type.shape
        del shape.dim[:]
        for d in want:
            nd = shape.dim.add()
            if isinstance(d, int):
                nd.dim_value = d
            else:
                nd.dim_param = d


def export_onnx(model: nn.Module, path: str, opset: int = OPSET) -> onnx.ModelProto:
    """Trace `model` (its cfg.head decides the output) to ONNX at `path`; checks and returns the ModelProto."""
    cfg = model.cfg
    head = cfg.head
    n_bytes = 4 * sum(p.numel() for p in model.parameters())
    if n_bytes > 1_800_000_000:
        # One protobuf holds at most 2 GiB; larger models need ONNX external data, which this exporter does
        # not write yet.
        raise NotImplementedError(f"model has {n_bytes / 1e9:.1f} GB of fp32 weights; the single-file export "
                                  f"is limited to < 2 GB")
    # Trace a float32 CPU copy: the caller's (possibly bf16, GPU, training-mode) module is left untouched.
    model = copy.deepcopy(model).cpu().float().eval()
    extra = dict(getattr(model, "extra_outputs", None) or {})
    in_names, out_names = io_names(cfg.n_layers, head, list(extra))
    # Trace with batch 2, chunk 3 after 4 cached positions: sizes that differ from each other and from 1, so
    # the tracer cannot confuse dims or bake in a broadcast; everything but kvh/head_size is marked dynamic.
    b, s, p = 2, 3, 4
    g = torch.Generator().manual_seed(0)
    args = [torch.randint(0, cfg.vocab_size, (b, s), generator=g),
            torch.ones(b, p + s, dtype=torch.int64),
            (torch.arange(s) + p).unsqueeze(0).repeat(b, 1)]
    for _ in range(cfg.n_layers):
        args += [torch.randn(b, cfg.n_kv_heads, p, cfg.head_size, generator=g) for _ in range(2)]
    dims = _dim_names(cfg, head)
    dims.update({n: [cfg.vocab_size if d == "vocab" else d for d in ds] for n, ds in extra.items()})
    dynamic_axes = {n: {i: d for i, d in enumerate(dims[n]) if isinstance(d, str)} for n in in_names + out_names}
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about Python ints taken from shapes; those ints only feed ops it records
        # symbolically (Shape -> Gather), which the parity tests confirm.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(_FlatSignature(model), tuple(args), path, input_names=in_names, output_names=out_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True)
    proto = onnx.load(path)
    got_in = [i.name for i in proto.graph.input]
    got_out = [o.name for o in proto.graph.output]
    if got_in != in_names or got_out != out_names:
        raise RuntimeError(f"exported I/O names differ from the contract: {got_in} -> {got_out}")
    _set_shapes(proto, dims)
    proto.producer_name = "decodealign_tools"
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, path)
    non_standard = {n.op_type for n in proto.graph.node if n.domain not in ("", "ai.onnx")}
    if non_standard:
        raise RuntimeError(f"exported graph uses non-standard ops: {sorted(non_standard)}")
    return proto


def genai_config(cfg, bos_token_id: Optional[int], eos_token_id, pad_token_id: Optional[int],
                 context_length: Optional[int] = None, filename: str = "model.onnx") -> dict:
    """genai_config.json in the ONNX Runtime GenAI shape (see shared/models/tiny-random-llama-fp16)."""
    head = cfg.head
    outputs = {OUTPUT_NAMES[head]: OUTPUT_NAMES[head],
               "present_key_names": "present.%d.key", "present_value_names": "present.%d.value"}
    conf = {
        "model": {
            "bos_token_id": bos_token_id,
            "context_length": int(context_length or cfg.max_seq_len),
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": filename,
                "head_size": cfg.head_size,
                "hidden_size": cfg.dim,
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": "attention_mask",
                    "position_ids": "position_ids",
                    "past_key_names": "past_key_values.%d.key",
                    "past_value_names": "past_key_values.%d.value",
                },
                "outputs": outputs,
                "num_attention_heads": cfg.n_heads,
                "num_hidden_layers": cfg.n_layers,
                "num_key_value_heads": cfg.n_kv_heads,
            },
            "eos_token_id": eos_token_id,
            "pad_token_id": pad_token_id,
            "type": "llama",
            "vocab_size": cfg.vocab_size,
        }
    }
    if head != "lm":
        conf["decodealign"] = {"head": head}
    return conf


def hf_config(cfg, bos_token_id, eos_token_id, pad_token_id, context_length: Optional[int] = None,
              extra: Optional[dict] = None) -> dict:
    """A small HF-like config.json. Note: weights use cfg.rope_interleaved; HF's LlamaForCausalLM assumes the
    half-split layout, so an interleaved model is not loadable by transformers as-is (wq/wk rows would need
    permuting). The full LlamaConfig is kept under "decodealign" so our tools can rebuild the module."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg.vocab_size,
        "max_position_embeddings": int(context_length or cfg.max_seq_len),
        "bos_token_id": bos_token_id,
        "eos_token_id": eos_token_id,
        "pad_token_id": pad_token_id,
        "hidden_size": cfg.dim,
        "intermediate_size": cfg.hidden_dim,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "num_hidden_layers": cfg.n_layers,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "tie_word_embeddings": bool(cfg.tie_embeddings and cfg.head == "lm"),
        "torch_dtype": "float32",
        "decodealign": {"head": cfg.head, **cfg.to_dict(), **(extra or {})},
    }


def export_decoder(model: nn.Module, out_dir: str, head: Optional[str] = None,
                   special_tokens: Optional[dict] = None, context_length: Optional[int] = None,
                   filename: str = "model.onnx", extra_config: Optional[dict] = None) -> str:
    """Export `model` to out_dir/filename plus genai_config.json and config.json; returns the ONNX path.

    head: overrides model.cfg.head only as a consistency check (the module's head is what gets exported).
    special_tokens: {"bos_token_id": int|None, "eos_token_id": int|list|None, "pad_token_id": int|None}.
    context_length: defaults to cfg.max_seq_len.
    extra_config: merged into config.json's "decodealign" entry (e.g. how a wrapper module is rebuilt).
    `model` may be any module with a LlamaConfig `cfg` and Llama.forward's signature (e.g. the forge's verifier).
    """
    if head is not None and head != model.cfg.head:
        raise ValueError(f"model has head {model.cfg.head!r}, asked to export {head!r}; call model.set_head first")
    if model.cfg.head not in HEADS:
        raise ValueError(f"unknown head {model.cfg.head!r}")
    st = dict(special_tokens or {})
    bos, eos, pad = st.get("bos_token_id"), st.get("eos_token_id"), st.get("pad_token_id")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, filename)
    export_onnx(model, path)
    with open(os.path.join(out_dir, "genai_config.json"), "w") as f:
        json.dump(genai_config(model.cfg, bos, eos, pad, context_length, filename), f, indent=4)
        f.write("\n")
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(model.cfg, bos, eos, pad, context_length, extra_config), f, indent=2)
        f.write("\n")
    return path


def export_state_dict(state_dict: dict, cfg, out_dir: str, **kwargs) -> str:
    """Build a Llama from (cfg, state_dict) - e.g. a forge checkpoint - and export it with export_decoder."""
    model = Llama(cfg)
    model.load_state_dict(state_dict, strict=True)
    return export_decoder(model.eval(), out_dir, **kwargs)
