"""Loads an exported Llama decoder's weights back from its model.onnx into the PyTorch module.

The exporter names only some initializers (embedding, norms); the matrices become anonymous MatMul constants. They
are matched by walking the graph: each MatMul's weight is found from the node that consumes its output, in
execution order (wq, wk, wv, wo, w1, w3, w2 per layer, then the head). The caller checks the result against the
folder's parity.json, so a wrong match cannot pass silently.
"""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def load_state(model, onnx_path: str) -> None:
    """Copies the weights of `onnx_path` (exported from a Llama of the same config) into `model`."""
    g = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    state = model.state_dict()
    named = {k: v for k, v in inits.items() if not k.startswith("onnx::")}
    for k, v in named.items():
        key = k[len("model."):] if k.startswith("model.") else k
        if key in state:
            state[key] = torch.from_numpy(np.array(v))
    # Anonymous matrices in the order the graph multiplies by them.
    mats = [inits[n.input[1]] for n in g.node if n.op_type == "MatMul" and n.input[1] in inits
            and n.input[1].startswith("onnx::")]
    order = []
    for i in range(model.cfg.n_layers):
        p = f"layers.{i}."
        order += [p + "attention.wq.weight", p + "attention.wk.weight", p + "attention.wv.weight",
                  p + "attention.wo.weight", p + "feed_forward.w1.weight", p + "feed_forward.w3.weight",
                  p + "feed_forward.w2.weight"]
    tied = model.cfg.head == "lm" and model.cfg.tie_embeddings
    if not tied:
        order.append("output.weight")
    if len(mats) < len(order):
        raise SystemExit(f"{onnx_path}: {len(mats)} weight matrices, the config needs {len(order)}")
    for key, m in zip(order, mats):
        state[key] = torch.from_numpy(np.ascontiguousarray(m.T))
    model.load_state_dict(state)


def check_parity(model, folder: str, tol: float = 2e-3) -> float:
    """Max |PyTorch − parity.json| on the folder's parity input; raises when over `tol`."""
    with open(os.path.join(folder, "parity.json")) as f:
        par = json.load(f)
    with torch.no_grad():
        out, _ = model.eval()(torch.tensor(par["input_ids"], dtype=torch.int64))
    err = float((out.flatten() - torch.tensor(par["values"])).abs().max())
    if err > tol:
        raise SystemExit(f"{folder}: weights loaded from model.onnx differ from parity.json by {err:.2e}")
    return err
