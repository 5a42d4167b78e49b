"""Float64 numpy reference forward pass for Llama-architecture GGUF models (SmolLM2-135M).

Deliberately plain: full causal recomputation, no KV cache, every shape read
from the GGUF metadata. It is the yardstick for the Swift engine, so clarity
beats speed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gguf_min import GGUFFile

ROPE_LAYOUTS = ("interleaved", "half")


@dataclass(frozen=True)
class LlamaConfig:
    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_rot: int
    rope_base: float
    rms_eps: float
    vocab: int

    @staticmethod
    def from_gguf(g: GGUFFile) -> "LlamaConfig":
        md = g.metadata
        arch = md["general.architecture"]
        if arch != "llama":
            raise ValueError(f"unsupported architecture {arch!r}")
        for key in ("rope.scaling.type", "rope.scaling.factor"):
            if f"{arch}.{key}" in md:
                raise ValueError(f"rope scaling ({arch}.{key}) is not implemented in the reference")
        n_embd = int(md[f"{arch}.embedding_length"])
        n_head = int(md[f"{arch}.attention.head_count"])
        head_dim = int(md.get(f"{arch}.attention.key_length", n_embd // n_head))
        vocab = len(md["tokenizer.ggml.tokens"])
        return LlamaConfig(
            n_layer=int(md[f"{arch}.block_count"]),
            n_embd=n_embd,
            n_ff=int(md[f"{arch}.feed_forward_length"]),
            n_head=n_head,
            n_head_kv=int(md.get(f"{arch}.attention.head_count_kv", n_head)),
            head_dim=head_dim,
            n_rot=int(md.get(f"{arch}.rope.dimension_count", head_dim)),
            rope_base=float(md.get(f"{arch}.rope.freq_base", 10000.0)),
            rms_eps=float(md[f"{arch}.attention.layer_norm_rms_epsilon"]),
            vocab=vocab,
        )


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x: np.ndarray, positions: np.ndarray, base: float, n_rot: int, layout: str) -> np.ndarray:
    """Rotate x (T, heads, head_dim). 'interleaved' pairs (2i, 2i+1) as GGUF's permuted Q/K expect;
    'half' pairs (i, i + n_rot/2) (NeoX/HF layout, wrong for GGUF llama; kept for documentation)."""
    half = n_rot // 2
    inv_freq = base ** (-np.arange(half, dtype=np.float64) * 2.0 / n_rot)
    ang = positions.astype(np.float64)[:, None] * inv_freq[None, :]
    cos = np.cos(ang)[:, None, :].astype(x.dtype)
    sin = np.sin(ang)[:, None, :].astype(x.dtype)
    out = x.copy()
    if layout == "interleaved":
        x0, x1 = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        out[..., 0:n_rot:2] = x0 * cos - x1 * sin
        out[..., 1:n_rot:2] = x0 * sin + x1 * cos
    elif layout == "half":
        x0, x1 = x[..., :half], x[..., half:n_rot]
        out[..., :half] = x0 * cos - x1 * sin
        out[..., half:n_rot] = x0 * sin + x1 * cos
    else:
        raise ValueError(f"unknown rope layout {layout!r}")
    return out


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class LlamaRef:
    def __init__(self, gguf: GGUFFile, dtype=np.float64, rope_layout: str = "interleaved"):
        if rope_layout not in ROPE_LAYOUTS:
            raise ValueError(f"rope layout must be one of {ROPE_LAYOUTS}")
        self.cfg = cfg = LlamaConfig.from_gguf(gguf)
        self.dtype = dtype
        self.rope_layout = rope_layout
        t = lambda name: gguf.tensor(name, dtype)  # noqa: E731
        self.tok_embd = t("token_embd.weight")  # (vocab, n_embd)
        # Tied output: use output.weight when present, else token_embd.
        self.output = t("output.weight") if "output.weight" in gguf.tensors else self.tok_embd
        self.output_norm = t("output_norm.weight")
        self.layers = []
        for i in range(cfg.n_layer):
            p = f"blk.{i}."
            self.layers.append({k: t(p + k + ".weight") for k in (
                "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")})
        self._check_shapes()

    def _check_shapes(self) -> None:
        c = self.cfg
        expect = {
            "attn_norm": (c.n_embd,), "ffn_norm": (c.n_embd,),
            "attn_q": (c.n_head * c.head_dim, c.n_embd),
            "attn_k": (c.n_head_kv * c.head_dim, c.n_embd),
            "attn_v": (c.n_head_kv * c.head_dim, c.n_embd),
            "attn_output": (c.n_embd, c.n_head * c.head_dim),
            "ffn_gate": (c.n_ff, c.n_embd), "ffn_up": (c.n_ff, c.n_embd), "ffn_down": (c.n_embd, c.n_ff),
        }
        for i, layer in enumerate(self.layers):
            for k, shape in expect.items():
                if layer[k].shape != shape:
                    raise ValueError(f"blk.{i}.{k}: shape {layer[k].shape}, expected {shape}")
        if self.tok_embd.shape != (c.vocab, c.n_embd) or self.output.shape != (c.vocab, c.n_embd):
            raise ValueError(f"embedding/output shape {self.tok_embd.shape}/{self.output.shape}")
        if c.n_head % c.n_head_kv:
            raise ValueError("head_count not a multiple of head_count_kv")

    def attention(self, h: np.ndarray, layer: dict) -> np.ndarray:
        c = self.cfg
        T = h.shape[0]
        pos = np.arange(T)
        q = (h @ layer["attn_q"].T).reshape(T, c.n_head, c.head_dim)
        k = (h @ layer["attn_k"].T).reshape(T, c.n_head_kv, c.head_dim)
        v = (h @ layer["attn_v"].T).reshape(T, c.n_head_kv, c.head_dim)
        q = rope(q, pos, c.rope_base, c.n_rot, self.rope_layout)
        k = rope(k, pos, c.rope_base, c.n_rot, self.rope_layout)
        group = c.n_head // c.n_head_kv  # query head j reads kv head j // group
        scale = 1.0 / np.sqrt(c.head_dim)
        future = np.triu(np.ones((T, T), dtype=bool), k=1)
        out = np.empty((T, c.n_head, c.head_dim), dtype=h.dtype)
        for j in range(c.n_head):
            kv = j // group
            s = (q[:, j, :] @ k[:, kv, :].T) * scale
            s[future] = -np.inf
            s = s - s.max(axis=-1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(axis=-1, keepdims=True)
            out[:, j, :] = p @ v[:, kv, :]
        return out.reshape(T, c.n_head * c.head_dim) @ layer["attn_output"].T

    def ffn(self, h: np.ndarray, layer: dict) -> np.ndarray:
        g = h @ layer["ffn_gate"].T
        u = h @ layer["ffn_up"].T
        return ((g / (1.0 + np.exp(-g))) * u) @ layer["ffn_down"].T

    def forward(self, ids, probe: list | None = None) -> np.ndarray:
        """Logits (T, vocab) for every position of `ids` (causal). If `probe` is a list,
        the residual stream after each layer is appended to it."""
        c = self.cfg
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or ids.size == 0 or ids.min() < 0 or ids.max() >= c.vocab:
            raise ValueError("ids must be a non-empty 1-D sequence of valid token ids")
        x = self.tok_embd[ids].copy()
        for layer in self.layers:
            x = x + self.attention(rms_norm(x, layer["attn_norm"], c.rms_eps), layer)
            x = x + self.ffn(rms_norm(x, layer["ffn_norm"], c.rms_eps), layer)
            if probe is not None:
                probe.append(x.copy())
        x = rms_norm(x, self.output_norm, c.rms_eps)
        return x @ self.output.T

    def logprobs(self, ids) -> np.ndarray:
        return log_softmax(self.forward(ids).astype(np.float64))
