#!/usr/bin/env python3
"""Self-checks of the reference that need no external implementation.

1. Dequantizers on hand-built blocks with known values (Q4_1, Q8_0, F16, F32).
2. Parser rejects a bad magic and a truncated file with a GGUFError.
3. RoPE consistency: undoing the GGUF Q/K row permutation and rotating in the 'half'
   (HF) layout must give the same logits as the interleaved layout on the GGUF rows.
4. Tokenizer round-trip on text with digits, whitespace runs, unicode and a control token.
Usage: python3 selftest.py [MODEL.gguf]
"""
from __future__ import annotations

import os
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gguf_min import GGUFError, GGUFFile, dequantize  # noqa: E402
from llama_ref import LlamaRef  # noqa: E402
from tokenizer_ref import build_tokenizer, decode, encode  # noqa: E402


def check_dequant() -> None:
    # Q4_1: d=0.5, m=-1, qs[j] = j | ((15-j) << 4)  -> w[j] = 0.5*j - 1, w[j+16] = 0.5*(15-j) - 1
    qs = bytes((j | ((15 - j) << 4)) for j in range(16))
    block = struct.pack("<ee", 0.5, -1.0) + qs
    w = dequantize(np.frombuffer(block, np.uint8), 3, 32)
    j = np.arange(16)
    assert np.array_equal(w[:16], 0.5 * j - 1) and np.array_equal(w[16:], 0.5 * (15 - j) - 1), w
    # Q8_0: d=0.25, q = -16..15
    q = np.arange(-16, 16, dtype=np.int8)
    block = struct.pack("<e", 0.25) + q.tobytes()
    w = dequantize(np.frombuffer(block, np.uint8), 8, 32)
    assert np.array_equal(w, 0.25 * np.arange(-16, 16)), w
    v = np.array([1.5, -2.25, 65504.0], dtype="<f2")
    assert np.array_equal(dequantize(np.frombuffer(v.tobytes(), np.uint8), 1, 3), v.astype(np.float64))
    v = np.array([1e-30, -3.0], dtype="<f4")
    assert np.array_equal(dequantize(np.frombuffer(v.tobytes(), np.uint8), 0, 2), v.astype(np.float64))
    print("ok dequantizers")


def check_parser_errors(model_path: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.gguf")
        with open(bad, "wb") as f:
            f.write(b"GGML" + bytes(60))
        for path, what in ((bad, "magic"),):
            try:
                GGUFFile(path)
                raise AssertionError(f"accepted bad {what}")
            except GGUFError:
                pass
        trunc = os.path.join(d, "trunc.gguf")
        with open(model_path, "rb") as src, open(trunc, "wb") as dst:
            dst.write(src.read(100_000))  # cut inside the metadata
        try:
            GGUFFile(trunc)
            raise AssertionError("accepted truncated file")
        except GGUFError as e:
            assert "truncated" in str(e), e
    print("ok parser errors")


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of the converter's Q/K row permutation: GGUF row (h, 2i+j) -> HF row (h, j*half+i)."""
    rows, cols = w.shape
    return w.reshape(n_head, rows // n_head // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def check_rope_equivalence(g: GGUFFile, ids: list[int]) -> None:
    inter = LlamaRef(g, rope_layout="interleaved")
    ref = inter.forward(ids)
    del inter
    half = LlamaRef(g, rope_layout="half")
    for layer in half.layers:
        layer["attn_q"] = unpermute(layer["attn_q"], half.cfg.n_head)
        layer["attn_k"] = unpermute(layer["attn_k"], half.cfg.n_head_kv)
    other = half.forward(ids)
    diff = np.abs(ref - other).max()
    assert diff < 1e-9, diff
    print(f"ok rope: unpermuted+half == interleaved (max |dlogit| {diff:.2e})")


def check_tokenizer(g: GGUFFile) -> list[int]:
    tok = build_tokenizer(g)
    text = "In 2024,  12345 apples\tcost $3.50 — naïve café 東京!\n\n<|im_end|>"
    ids = encode(tok, text)
    assert decode(tok, ids) == text, decode(tok, ids)
    assert ids[-1] == 2, ids  # <|im_end|> is one control token
    digits = encode(tok, "12345")
    assert len(digits) == 5, digits  # digits are split one by one
    print(f"ok tokenizer round-trip ({len(ids)} tokens)")
    return ids[:-1]


def main() -> None:
    cache = os.environ.get("INFINIGEN_CACHE") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".cache", "infinigen")
    model = sys.argv[1] if len(sys.argv) > 1 else f"{cache}/model/SmolLM2-135M-Instruct.Q4_1.gguf"
    check_dequant()
    check_parser_errors(model)
    g = GGUFFile(model)
    ids = check_tokenizer(g)
    check_rope_equivalence(g, ids)
    print("all self-checks passed")


if __name__ == "__main__":
    main()
