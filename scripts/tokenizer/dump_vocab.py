#!/usr/bin/env python3
"""Dump the tokenizer metadata of a GGUF file (stdlib only).

Reads only the metadata key/value section of a GGUF v2/v3 file -- never the
tensors -- and extracts the tokenizer.ggml.* keys. Used for development and
for make_golden.py; the Swift side has its own reader.

    python3 dump_vocab.py MODEL.gguf            # summary on stdout
    python3 dump_vocab.py MODEL.gguf --json OUT # full vocab as JSON
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import tempfile
from typing import Any, BinaryIO

# GGUF value type ids -> struct format (scalars only).
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9


class GGUFError(Exception):
    pass


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise GGUFError(f"truncated GGUF metadata (wanted {n} bytes, got {len(data)})")
    return data


def _unpack(f: BinaryIO, fmt: str) -> Any:
    return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]


def _read_string(f: BinaryIO) -> str:
    n = _unpack(f, "<Q")
    if n > 1 << 30:
        raise GGUFError(f"implausible string length {n}")
    # Token strings are UTF-8 by spec; surrogateescape keeps odd bytes lossless.
    return _read(f, n).decode("utf-8", errors="surrogateescape")


def _read_value(f: BinaryIO, vtype: int) -> Any:
    if vtype in _SCALARS:
        return _unpack(f, _SCALARS[vtype])
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        etype = _unpack(f, "<I")
        count = _unpack(f, "<Q")
        if etype in _SCALARS:
            fmt = _SCALARS[etype]
            size = struct.calcsize(fmt)
            raw = _read(f, size * count)
            return list(struct.unpack("<" + fmt[1:] * count, raw))
        return [_read_value(f, etype) for _ in range(count)]
    raise GGUFError(f"unknown GGUF value type {vtype}")


def read_metadata(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        if _read(f, 4) != b"GGUF":
            raise GGUFError(f"{path}: not a GGUF file (bad magic)")
        version = _unpack(f, "<I")
        if version not in (2, 3):
            raise GGUFError(f"{path}: unsupported GGUF version {version}")
        _unpack(f, "<Q")  # tensor count (unused)
        kv_count = _unpack(f, "<Q")
        meta: dict[str, Any] = {}
        for _ in range(kv_count):
            key = _read_string(f)
            meta[key] = _read_value(f, _unpack(f, "<I"))
        return meta


def tokenizer_metadata(path: str) -> dict[str, Any]:
    meta = read_metadata(path)
    if "tokenizer.ggml.tokens" not in meta:
        raise GGUFError(f"{path}: no tokenizer.ggml.tokens key")
    return {k: v for k, v in meta.items() if k.startswith("tokenizer.")}


def _write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as out:
        out.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gguf")
    ap.add_argument("--json", help="write tokenizer.* metadata as JSON here")
    args = ap.parse_args()
    try:
        tok = tokenizer_metadata(args.gguf)
    except (OSError, GGUFError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for k, v in sorted(tok.items()):
        if isinstance(v, list):
            print(f"{k}: list[{len(v)}] first={v[:5]!r}")
        else:
            print(f"{k}: {v!r}")
    types = tok.get("tokenizer.ggml.token_type", [])
    special = [(i, tok["tokenizer.ggml.tokens"][i], t) for i, t in enumerate(types) if t != 1]
    print(f"non-normal token types: {special}")
    if args.json:
        _write_atomic(args.json, json.dumps(tok, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
