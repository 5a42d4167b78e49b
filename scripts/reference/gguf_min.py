"""Minimal, self-contained GGUF reader and dequantizers (F32, F16, Q8_0, Q4_1).

Written from the format description in docs/assets.md (and ggml's public block
layouts), deliberately without the `gguf` package so that this reference shares
no code with the readers it is meant to check.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# Metadata value type codes -> struct format (scalars only).
_SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_TYPE_STRING = 8
_TYPE_ARRAY = 9

# ggml tensor type codes handled here: (name, elements per block, bytes per block).
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    3: ("Q4_1", 32, 20),
    8: ("Q8_0", 32, 34),
}


class GGUFError(Exception):
    """Malformed or unsupported GGUF content."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]  # dims[0] is innermost (GGUF order)
    type_code: int
    offset: int  # relative to the data section

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def type_name(self) -> str:
        return GGML_TYPES.get(self.type_code, (f"type{self.type_code}",))[0]

    @property
    def n_bytes(self) -> int:
        if self.type_code not in GGML_TYPES:
            raise GGUFError(f"tensor {self.name}: unsupported ggml type {self.type_code}")
        _, block, size = GGML_TYPES[self.type_code]
        if self.n_elements % block:
            raise GGUFError(f"tensor {self.name}: {self.n_elements} elements not a multiple of block {block}")
        return self.n_elements // block * size


class _Cursor:
    """Bounds-checked little-endian reader over a bytes-like buffer."""

    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, n: int):
        if n < 0 or self.pos + n > len(self.buf):
            raise GGUFError(f"truncated file: need {n} bytes at offset {self.pos}, size {len(self.buf)}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        return bytes(self.take(n)).decode("utf-8")

    def value(self, type_code: int):
        if type_code in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[type_code])
        if type_code == _TYPE_STRING:
            return self.string()
        if type_code == _TYPE_ARRAY:
            elem_type = self.unpack("<I")
            count = self.unpack("<Q")
            return [self.value(elem_type) for _ in range(count)]
        raise GGUFError(f"unknown metadata value type {type_code} at offset {self.pos}")


class GGUFFile:
    """Parsed GGUF: `metadata` dict, `tensors` dict of TensorInfo, raw data via memmap."""

    def __init__(self, path: str):
        self.path = path
        self._map = np.memmap(path, dtype=np.uint8, mode="r")
        cur = _Cursor(memoryview(self._map))
        if bytes(cur.take(4)) != GGUF_MAGIC:
            raise GGUFError(f"{path}: not a GGUF file (bad magic)")
        self.version = cur.unpack("<I")
        if self.version not in (2, 3):
            raise GGUFError(f"{path}: unsupported GGUF version {self.version}")
        n_tensors = cur.unpack("<Q")
        n_kv = cur.unpack("<Q")
        self.metadata: dict[str, object] = {}
        for _ in range(n_kv):
            key = cur.string()
            self.metadata[key] = cur.value(cur.unpack("<I"))
        self.tensors: dict[str, TensorInfo] = {}
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.unpack("<I")
            dims = tuple(cur.unpack("<Q") for _ in range(n_dims))
            type_code = cur.unpack("<I")
            offset = cur.unpack("<Q")
            self.tensors[name] = TensorInfo(name, dims, type_code, offset)
        self.alignment = int(self.metadata.get("general.alignment", DEFAULT_ALIGNMENT))
        self.data_start = (cur.pos + self.alignment - 1) // self.alignment * self.alignment
        for t in self.tensors.values():
            end = self.data_start + t.offset + t.n_bytes
            if t.offset % self.alignment or end > len(self._map):
                raise GGUFError(f"tensor {t.name}: bad offset {t.offset} (size {t.n_bytes}, file {len(self._map)})")

    def raw(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        start = self.data_start + t.offset
        return self._map[start:start + t.n_bytes]

    def tensor(self, name: str, dtype=np.float64) -> np.ndarray:
        """Dequantized tensor shaped numpy-style (dims reversed: a [in, out] matrix becomes (out, in))."""
        if name not in self.tensors:
            raise GGUFError(f"tensor {name} not in {self.path}")
        t = self.tensors[name]
        flat = dequantize(self.raw(name), t.type_code, t.n_elements, dtype)
        return flat.reshape(tuple(reversed(t.dims)))


_Q4_1_BLOCK = np.dtype([("d", "<f2"), ("m", "<f2"), ("qs", "u1", (16,))])
_Q8_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "i1", (32,))])
assert _Q4_1_BLOCK.itemsize == 20 and _Q8_0_BLOCK.itemsize == 34


def dequantize(raw: np.ndarray, type_code: int, n: int, dtype=np.float64) -> np.ndarray:
    """Flat dequantized values. Arithmetic is done in `dtype` (f16 scales are exact in f32/f64)."""
    raw = np.ascontiguousarray(raw)
    if type_code == 0:
        return raw.view("<f4")[:n].astype(dtype)
    if type_code == 1:
        return raw.view("<f2")[:n].astype(dtype)
    if type_code == 3:
        # w[j] = d*(qs[j] & 15) + m ; w[j+16] = d*(qs[j] >> 4) + m
        b = raw.view(_Q4_1_BLOCK)
        q = np.concatenate([b["qs"] & 15, b["qs"] >> 4], axis=1).astype(dtype)
        w = q * b["d"].astype(dtype)[:, None] + b["m"].astype(dtype)[:, None]
        return w.reshape(-1)[:n]
    if type_code == 8:
        # w = d * q
        b = raw.view(_Q8_0_BLOCK)
        w = b["qs"].astype(dtype) * b["d"].astype(dtype)[:, None]
        return w.reshape(-1)[:n]
    raise GGUFError(f"dequantize: unsupported ggml type {type_code}")


if __name__ == "__main__":
    import sys

    g = GGUFFile(sys.argv[1])
    print(f"GGUF v{g.version}, {len(g.metadata)} metadata keys, {len(g.tensors)} tensors, "
          f"alignment {g.alignment}, data at {g.data_start}")
    for k, v in g.metadata.items():
        if isinstance(v, list):
            print(f"  {k}: [{len(v)} items] {v[:5]!r}...")
        else:
            print(f"  {k}: {v!r}")
    for t in list(g.tensors.values())[:14]:
        print(f"  {t.name:28s} {t.type_name:5s} {t.dims} @ {t.offset}")
