#!/usr/bin/env python3
"""Independent float64 check of the per-query-head GQA conventions (gqa=per-head).

Re-implements, on the real SmolLM2 model and without the Swift engine, teacher-forced
perplexity over a window with every position policy-managed (layers >= spare), for

  oracle:budget=B,gqa=per-head      each query head reads its own top ceil(B (t+1)) cached
                                    positions by its true logit q.k (ties: earlier)
  infinigen:budget=B,alpha=A,gqa=per-head
                                    speculated query of layer L from layer L-1's attention
                                    input (x . Wq(L), rotary), skewed partial columns P of
                                    each KV group: s = (P q)(P k) / sqrt(d); k = int(mean over
                                    all query heads of #{s > max - A}) capped by the same
                                    budget; each query head reads its own k best by s

Each query head attends over exactly its own rows and the query's own; the budget is
TokenBudget's: min(t, ceil(B (t+1) - 1e-9)). InfiniGen's skewed projections P come from
the Swift side (a debug dump, ReferenceDumpTests; the SVD is not redone here), and so do
the window's token ids (this environment has no tokenizer package); everything else -
GGUF parsing, dequantization, the forward pass, selection - is this script's own.

  INFINIGEN_DUMP_REFERENCE=/tmp/gqa_dump.json INFINIGEN_DUMP_TOKENS=1024 \
    swift test -c release -Xswiftc -enable-testing --filter PoliciesTests.ReferenceDumpTests
  python3 scripts/reference/gqa_ref.py --dump /tmp/gqa_dump.json \
    --policy oracle:0.2 --policy infinigen:0.2:5 --policy infinigen:0.2:99
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_min import GGUFFile  # noqa: E402
from llama_ref import LlamaRef, log_softmax, rms_norm, rope  # noqa: E402


def budget(fraction, t):
    """TokenBudget.count(at: t) for the positions t (array)."""
    n = np.ceil(fraction * (t + 1) - 1e-9).astype(np.int64)
    return np.maximum(0, np.minimum(n, t))


def top_rows(scores, k):
    """Per row t: the k[t] best of columns 0..t-1 (higher first, ties to the lower column),
    as a boolean matrix. Columns >= t are never chosen."""
    T = scores.shape[0]
    s = np.where(np.tri(T, T, -1, dtype=bool), scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(T)[:, None], order] = np.arange(T)[None, :]
    return (rank < k[:, None]) & np.tri(T, T, -1, dtype=bool)


def attend(q, k, v, allowed, scale):
    """One query head: softmax over the allowed rows (own row included) only."""
    s = (q @ k.T) * scale
    s = np.where(allowed, s, -np.inf)
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    return p @ v


def run(model, ids, policy, dump):
    c = model.cfg
    T = len(ids)
    pos = np.arange(T)
    G = c.n_head // c.n_head_kv
    d = c.head_dim
    scale = 1.0 / np.sqrt(d)
    spare = dump["spare"]
    x = model.tok_embd[np.asarray(ids)].copy()
    prev_input = None
    rows_read, rows_union = 0.0, 0.0
    for li, layer in enumerate(model.layers):
        h = rms_norm(x, layer["attn_norm"], c.rms_eps)
        q = rope((h @ layer["attn_q"].T).reshape(T, c.n_head, d), pos, c.rope_base, c.n_rot, model.rope_layout)
        k = rope((h @ layer["attn_k"].T).reshape(T, c.n_head_kv, d), pos, c.rope_base, c.n_rot, model.rope_layout)
        v = (h @ layer["attn_v"].T).reshape(T, c.n_head_kv, d)
        out = np.empty((T, c.n_head, d))
        diag = np.eye(T, dtype=bool)
        if policy is None or li < spare:
            causal = np.tri(T, T, 0, dtype=bool)
            for j in range(c.n_head):
                out[:, j] = attend(q[:, j], k[:, j // G], v[:, j // G], causal, scale)
        else:
            masks = []
            if policy[0] == "oracle":
                kk = budget(policy[1], pos)
                for j in range(c.n_head):
                    masks.append(top_rows(q[:, j] @ k[:, j // G].T, kk))
            else:
                _, frac, alpha = policy
                spec = rope((prev_input @ layer["attn_q"].T).reshape(T, c.n_head, d), pos, c.rope_base, c.n_rot,
                            model.rope_layout)
                scores = []
                for j in range(c.n_head):
                    g = j // G
                    P = np.asarray(dump["projections"][li * c.n_head_kv + g], dtype=np.float64).reshape(-1, d)
                    scores.append(((spec[:, j] @ P.T) @ (k[:, g] @ P.T).T) * scale)
                lower = np.tri(T, T, -1, dtype=bool)
                counts = np.zeros(T)
                for s in scores:
                    m = np.where(lower, s, -np.inf).max(axis=1)
                    counts += (np.where(lower, s, -np.inf) > (m - alpha)[:, None]).sum(axis=1)
                kk = np.minimum(np.floor(counts / c.n_head).astype(np.int64), budget(frac, pos))
                kk[0] = 0
                masks = [top_rows(s, kk) for s in scores]
            for g in range(c.n_head_kv):
                union = np.zeros((T, T), dtype=bool)
                for j in range(g * G, (g + 1) * G):
                    union |= masks[j]
                    rows_read += masks[j].sum()
                rows_union += union.sum()
            for j in range(c.n_head):
                out[:, j] = attend(q[:, j], k[:, j // G], v[:, j // G], masks[j] | diag, scale)
        prev_input = h
        x = x + out.reshape(T, c.n_head * d) @ layer["attn_output"].T
        x = x + model.ffn(rms_norm(x, layer["ffn_norm"], c.rms_eps), layer)
    logits = rms_norm(x, model.output_norm, c.rms_eps) @ model.output.T
    lp = log_softmax(logits)
    nll = -lp[np.arange(T - 1), np.asarray(ids[1:])]
    managed = (c.n_layer - spare) * c.n_head_kv * T * (T - 1) / 2
    return float(np.exp(nll.mean())), rows_union / managed, rows_read / G / managed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(os.environ.get("INFINIGEN_CACHE", ""),
                                                    "model/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--dump", required=True, help="JSON written by ReferenceDumpTests (token ids, projections)")
    ap.add_argument("--policy", action="append", default=[],
                    help="oracle:BUDGET or infinigen:BUDGET:ALPHA (per-head conventions); repeatable")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    with open(args.dump) as f:
        dump = json.load(f)
    policies = []
    for p in args.policy:
        parts = p.split(":")
        if parts[0] == "oracle" and len(parts) == 2:
            policies.append(("oracle", float(parts[1])))
        elif parts[0] == "infinigen" and len(parts) == 3:
            policies.append(("infinigen", float(parts[1]), float(parts[2])))
        else:
            sys.exit(f"error: bad --policy {p!r} (oracle:BUDGET or infinigen:BUDGET:ALPHA)")
    model = LlamaRef(GGUFFile(args.model))
    ids = dump["tokens"]
    results = {"tokens": len(ids), "dtype": "float64", "full": run(model, ids, None, dump)[0]}
    print(f"full cache: perplexity {results['full']:.4f} over {len(ids)} tokens", flush=True)
    for p in policies:
        ppl, union, per_head = run(model, ids, p, dump)
        name = (f"oracle:budget={p[1]},gqa=per-head" if p[0] == "oracle"
                else f"infinigen:budget={p[1]},alpha={p[2]},gqa=per-head")
        results[name] = {"perplexity": ppl, "union_read_fraction_managed": union, "query_head_read_fraction_managed": per_head}
        print(f"{name}: perplexity {ppl:.4f}; managed rows read {union:.4f} (union per KV head), "
              f"{per_head:.4f} (per query head)", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
