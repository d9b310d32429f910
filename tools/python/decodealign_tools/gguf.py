"""A small GGUF (version 3) writer and reader, written from the format's specification (ggml's docs/gguf.md).

Layout: header (magic "GGUF", uint32 version, uint64 tensor count, uint64 metadata count), the metadata key/value
pairs, the tensor infos (name, uint32 n_dims, uint64 dims innermost first, uint32 ggml type, uint64 offset into the
data section), zero padding to `general.alignment` (default 32), then the tensor data, each tensor starting at a
multiple of the alignment. Everything little-endian.

Only what our converters need is written (scalars, strings, arrays of scalars/strings; F32 tensors), but the
reader parses every metadata type the specification defines, so a file written here is checked by an independent
parse of the same bytes rather than by the writer's own bookkeeping.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Dict, List, Sequence, Tuple

import numpy as np

MAGIC = b"GGUF"
VERSION = 3
DEFAULT_ALIGNMENT = 32

# gguf_metadata_value_type
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
_SCALAR = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i", FLOAT32: "<f",
           BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}

# ggml_type (only F32 is written; F16 is read for completeness)
GGML_F32, GGML_F16 = 0, 1
_GGML_NUMPY = {GGML_F32: np.float32, GGML_F16: np.float16}


class GgufError(ValueError):
    """A file that does not follow the specification."""


@dataclass
class TensorInfo:
    """One entry of the tensor table: dims innermost first (numpy shape reversed), data offset from the data start."""

    name: str
    dims: Tuple[int, ...]
    ggml_type: int
    offset: int


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype: int, value) -> bytes:
    if vtype == STRING:
        return _string(value)
    if vtype == ARRAY:
        etype, items = value
        return struct.pack("<IQ", etype, len(items)) + b"".join(_value(etype, v) for v in items)
    return struct.pack(_SCALAR[vtype], value)


def _pad(n: int, alignment: int) -> int:
    return (alignment - n % alignment) % alignment


class GgufWriter:
    """Collects metadata and F32 tensors, then writes one GGUF v3 file."""

    def __init__(self, alignment: int = DEFAULT_ALIGNMENT) -> None:
        self.alignment = alignment
        self._kv: List[Tuple[str, int, object]] = []
        self._tensors: List[Tuple[str, np.ndarray]] = []
        if alignment != DEFAULT_ALIGNMENT:
            self.add("general.alignment", UINT32, alignment)

    def add(self, key: str, vtype: int, value) -> None:
        """Adds a metadata pair; for ARRAY, value is (element type, list of values)."""
        if any(k == key for k, _, _ in self._kv):
            raise GgufError(f"duplicate metadata key {key}")
        self._kv.append((key, vtype, value))

    def add_tensor(self, name: str, array: np.ndarray) -> None:
        """Adds a tensor stored as F32, C order: numpy shape (rows, cols) becomes GGUF dims (cols, rows)."""
        if any(n == name for n, _ in self._tensors):
            raise GgufError(f"duplicate tensor {name}")
        self._tensors.append((name, np.ascontiguousarray(array, dtype=np.float32)))

    def write(self, path: str) -> None:
        """Writes the file (header, metadata, tensor infos, padding, aligned data)."""
        with open(path, "wb") as f:
            head = bytearray(MAGIC + struct.pack("<IQQ", VERSION, len(self._tensors), len(self._kv)))
            for key, vtype, value in self._kv:
                head += _string(key) + struct.pack("<I", vtype) + _value(vtype, value)
            offset = 0
            for name, a in self._tensors:
                dims = tuple(reversed(a.shape))
                head += _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
                head += struct.pack("<IQ", GGML_F32, offset)
                offset += a.nbytes + _pad(a.nbytes, self.alignment)
            head += b"\0" * _pad(len(head), self.alignment)
            f.write(head)
            for _, a in self._tensors:
                f.write(a.tobytes())
                f.write(b"\0" * _pad(a.nbytes, self.alignment))


class _Reader:
    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        b = self.f.read(size)
        if len(b) != size:
            raise GgufError("file ends inside the header")
        return struct.unpack(fmt, b)[0]

    def string(self) -> str:
        n = self.take("<Q")
        b = self.f.read(n)
        if len(b) != n:
            raise GgufError("file ends inside a string")
        return b.decode("utf-8")

    def value(self, vtype: int):
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            return [self.value(etype) for _ in range(n)]
        if vtype not in _SCALAR:
            raise GgufError(f"unknown metadata value type {vtype}")
        return self.take(_SCALAR[vtype])


def read_gguf(path: str, load_data: bool = True) -> Tuple[Dict[str, object], List[TensorInfo], Dict[str, np.ndarray]]:
    """Parses a GGUF v3 file: (metadata, tensor infos, tensors as numpy arrays in numpy shape order)."""
    with open(path, "rb") as f:
        r = _Reader(f)
        if f.read(4) != MAGIC:
            raise GgufError(f"{path}: not a GGUF file")
        version = r.take("<I")
        if version != VERSION:
            raise GgufError(f"{path}: GGUF version {version}, expected {VERSION}")
        n_tensors, n_kv = r.take("<Q"), r.take("<Q")
        meta: Dict[str, object] = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.take("<I"))
        infos = []
        for _ in range(n_tensors):
            name = r.string()
            dims = tuple(r.take("<Q") for _ in range(r.take("<I")))
            infos.append(TensorInfo(name, dims, r.take("<I"), r.take("<Q")))
        alignment = int(meta.get("general.alignment", DEFAULT_ALIGNMENT))
        data_start = f.tell() + _pad(f.tell(), alignment)
        tensors: Dict[str, np.ndarray] = {}
        for t in infos:
            if t.offset % alignment:
                raise GgufError(f"{path}: tensor {t.name} at offset {t.offset} is not {alignment}-aligned")
            if not load_data:
                continue
            if t.ggml_type not in _GGML_NUMPY:
                raise GgufError(f"{path}: tensor {t.name} has ggml type {t.ggml_type}, which this reader skips")
            dtype = _GGML_NUMPY[t.ggml_type]
            count = int(np.prod(t.dims)) if t.dims else 1
            f.seek(data_start + t.offset)
            raw = f.read(count * np.dtype(dtype).itemsize)
            if len(raw) != count * np.dtype(dtype).itemsize:
                raise GgufError(f"{path}: tensor {t.name} runs past the end of the file")
            tensors[t.name] = np.frombuffer(raw, dtype=dtype).reshape(tuple(reversed(t.dims)))
    return meta, infos, tensors


def string_array(items: Sequence[str]) -> Tuple[int, List[str]]:
    """An ARRAY value of strings."""
    return STRING, list(items)
