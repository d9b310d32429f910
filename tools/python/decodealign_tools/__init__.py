"""Python tooling for DecodeAlign: a Llama-style decoder in PyTorch, its ONNX export in the layout the C# Models
layer loads, and importers (llama2.c checkpoints and tokenizers).

Run with Debian's Python (/usr/bin/python3), which has python3-torch and python3-onnx.
"""
