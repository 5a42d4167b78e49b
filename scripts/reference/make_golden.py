#!/usr/bin/env python3
"""Regenerate the golden fixtures for the Swift model tests from the float64 numpy reference.

Writes (atomically) into Tests/ModelTests/Fixtures/:
  reference_pride.json   512 tokens of Pride and Prejudice: per-position next-token logprobs,
                         top-10 for positions 0..63, perplexity over 511 predictions
  reference_greedy.json  greedy 24-token continuation of "The capital of France is"
  reference_batch.json   next-token logprobs for three prompts of 5, 17 and 40 tokens

With --rope-layout half or --dtype float32 nothing is written: the run only reports its
perplexity and its distance from the existing float64 fixtures (for documentation).
"""
from __future__ import annotations

import os

# Single-threaded BLAS keeps summation order, hence every printed digit, reproducible.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gguf_min import GGUFFile  # noqa: E402
from llama_ref import ROPE_LAYOUTS, LlamaRef  # noqa: E402
from tokenizer_ref import build_tokenizer, decode, encode  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
N_TOKENS = 512
N_TOP_POSITIONS = 64
TOP_K = 10
GREEDY_PROMPT = "The capital of France is"
GREEDY_STEPS = 24
# Ragged batch prompts; the expected token counts are asserted so a tokenizer change is loud.
BATCH_PROMPTS = [
    ("Hello, my name is", 5),
    ("The quick brown fox jumps over the lazy dog, and then it runs far away.", 17),
    ("In 1969, Neil Armstrong and Buzz Aldrin became the first people to walk on the Moon. "
     "The Eagle landed there safely on July 20, 1969.", 40),
]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json_atomic(path: Path, obj: dict) -> int:
    """One top-level key per line (numbers compact) so diffs stay readable; temp file + rename."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in obj.items()]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return len(text.encode("utf-8"))


def wait_for(path: Path, seconds: float) -> None:
    deadline = time.time() + seconds
    while not (path.is_file() and path.stat().st_size > 0):
        if time.time() > deadline:
            sys.exit(f"error: {path} did not appear within {seconds:.0f} s")
        print(f"waiting for {path} ...", flush=True)
        time.sleep(15)


def top_k(lp_row: np.ndarray, k: int) -> list[list]:
    # Stable sort on -logprob so equal values order by id, deterministically.
    idx = np.argsort(-lp_row, kind="stable")[:k]
    return [[int(i), float(lp_row[i])] for i in idx]


def next_token_logprobs(lp: np.ndarray, ids: list[int]) -> np.ndarray:
    return lp[np.arange(len(ids) - 1), np.asarray(ids[1:])]


def pride_tokens(tok, text: str) -> tuple[list[int], str]:
    """First N_TOKENS ids of the text, and the exact text prefix they spell."""
    n_chars = 4096
    while True:
        ids = encode(tok, text[:n_chars])
        # Margin so the boundary cut cannot change token N_TOKENS-1.
        if len(ids) >= N_TOKENS + 32 or n_chars >= len(text):
            break
        n_chars *= 2
    if len(ids) < N_TOKENS:
        sys.exit(f"error: text has only {len(ids)} tokens, need {N_TOKENS}")
    ids = ids[:N_TOKENS]
    prefix = decode(tok, ids)
    if not text.startswith(prefix):
        sys.exit("error: decoded tokens are not a prefix of the text (tokenizer not lossless?)")
    return ids, prefix


def common_header(args, model_path: Path, model: LlamaRef) -> dict:
    c = model.cfg
    return {
        "generator": "scripts/reference/make_golden.py (float64 numpy reference)",
        "model_file": model_path.name,
        "model_sha256": sha256_file(model_path),
        "config": {"n_layer": c.n_layer, "n_embd": c.n_embd, "n_ff": c.n_ff, "n_head": c.n_head,
                   "n_head_kv": c.n_head_kv, "head_dim": c.head_dim, "n_rot": c.n_rot,
                   "rope_base": c.rope_base, "rms_eps": c.rms_eps, "vocab": c.vocab},
        "rope_layout": args.rope_layout,
        "dtype": args.dtype,
        "bos": False,
        "versions": {"numpy": np.__version__, "tokenizers": tokenizers.__version__,
                     "python": sys.version.split()[0]},
    }


def run_pride(args, model, tok, header) -> tuple[dict, float]:
    text_path = Path(args.text)
    wait_for(text_path, args.wait_seconds)
    text = text_path.read_text(encoding="utf-8")
    ids, prefix = pride_tokens(tok, text)
    t0 = time.time()
    lp = model.logprobs(ids)
    dt = time.time() - t0
    nlp = next_token_logprobs(lp, ids)
    ppl = float(np.exp(-nlp.mean()))
    print(f"pride: {len(ids)} tokens, {len(prefix)} chars, forward {dt:.2f} s "
          f"({len(ids) / dt:.0f} tok/s), perplexity {ppl:.4f}", flush=True)
    print("  first next-token logprobs:", " ".join(f"{x:.4f}" for x in nlp[:8]))
    fixture = dict(header)
    fixture.update({
        "text_file": "text/austen/prideprejudice.txt (relative to INFINIGEN_CACHE)",
        "text_sha256": sha256_file(text_path),
        "text_prefix_unicode_scalars": len(prefix),
        "text_prefix_utf8_bytes": len(prefix.encode("utf-8")),
        "prefix_retokenizes_identically": encode(tok, prefix) == ids,
        "n_tokens": len(ids),
        "n_predictions": len(nlp),
        "mean_nll": float(-nlp.mean()),
        "perplexity": ppl,
        "token_ids": ids,
        "next_token_logprob": [float(x) for x in nlp],
        "top10": [{"pos": i, "next_id": ids[i + 1], "next_logprob": float(nlp[i]),
                   "top": top_k(lp[i], TOP_K)} for i in range(N_TOP_POSITIONS)],
    })
    return fixture, dt


def run_greedy(model, tok, header) -> dict:
    prompt_ids = encode(tok, GREEDY_PROMPT)
    probe: list = []
    first_lp = None
    ids = list(prompt_ids)
    steps = []
    for step in range(GREEDY_STEPS):
        # Full recomputation each step: slow but cannot hide a KV-cache bug.
        logits = model.forward(ids, probe=probe if step == 0 else None)
        row = logits[-1].astype(np.float64)
        row = row - row.max()
        lp = row - np.log(np.exp(row).sum())
        if step == 0:
            first_lp = lp
        best = top_k(lp, 2)
        steps.append({"id": best[0][0], "logprob": best[0][1], "margin_to_second": best[0][1] - best[1][1]})
        ids.append(best[0][0])
    gen = [s["id"] for s in steps]
    text = decode(tok, gen)
    print(f"greedy: {GREEDY_PROMPT!r} -> {text!r}", flush=True)
    print(f"  min top1-top2 margin {min(s['margin_to_second'] for s in steps):.4f}")
    fixture = dict(header)
    fixture.update({
        "prompt": GREEDY_PROMPT,
        "prompt_ids": prompt_ids,
        "n_steps": GREEDY_STEPS,
        "stops_at_eos": False,
        "generated_ids": gen,
        "generated_text": text,
        "steps": steps,
        "prompt_last_top10": top_k(first_lp, TOP_K),
        # Residual stream at the last prompt position after each layer: bisects a layer-level bug.
        "layer_probe_last_position": [
            {"layer": i, "l2_norm": float(np.linalg.norm(h[-1])), "first8": [float(v) for v in h[-1, :8]]}
            for i, h in enumerate(probe)],
    })
    return fixture


def run_batch(model, tok, header) -> dict:
    prompts = []
    for text, expect in BATCH_PROMPTS:
        ids = encode(tok, text)
        if len(ids) != expect:
            sys.exit(f"error: batch prompt {text[:30]!r}... has {len(ids)} tokens, expected {expect}")
        lp = model.logprobs(ids)
        prompts.append({"text": text, "ids": ids,
                        "next_token_logprob": [float(x) for x in next_token_logprobs(lp, ids)],
                        "last_top10": top_k(lp[-1], TOP_K)})
    print("batch: lengths", [len(p["ids"]) for p in prompts], flush=True)
    fixture = dict(header)
    fixture["note"] = ("Each prompt evaluated alone (no padding). A batched/ragged prefill must "
                       "reproduce these per-sequence values.")
    fixture["prompts"] = prompts
    return fixture


def compare_to_fixture(path: Path, key: str, values: list[float]) -> None:
    if not path.is_file():
        return
    ref = json.loads(path.read_text())[key]
    if len(ref) == len(values):
        d = np.abs(np.asarray(ref) - np.asarray(values))
        print(f"  vs {path.name}: max |dlogprob| {d.max():.3e}, mean {d.mean():.3e}")


def main() -> None:
    cache = Path(os.environ.get("INFINIGEN_CACHE") or Path(__file__).resolve().parents[2] / ".cache" / "infinigen")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(cache / "model/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--text", default=str(cache / "text/austen/prideprejudice.txt"))
    ap.add_argument("--out-dir", default=str(REPO / "Tests/ModelTests/Fixtures"))
    ap.add_argument("--rope-layout", choices=ROPE_LAYOUTS, default="interleaved")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--wait-seconds", type=float, default=1800, help="how long to wait for the text file")
    ap.add_argument("--only", choices=("pride", "greedy", "batch"), action="append",
                    help="generate only these fixtures (repeatable)")
    args = ap.parse_args()

    model_path = Path(args.model)
    if not model_path.is_file():
        sys.exit(f"error: model not found: {model_path}")
    out = Path(args.out_dir)
    write = args.rope_layout == "interleaved" and args.dtype == "float64"
    which = args.only or ["pride", "greedy", "batch"]

    t0 = time.time()
    gguf = GGUFFile(str(model_path))
    tok = build_tokenizer(gguf)
    model = LlamaRef(gguf, dtype=np.float64 if args.dtype == "float64" else np.float32,
                     rope_layout=args.rope_layout)
    header = common_header(args, model_path, model)
    print(f"loaded in {time.time() - t0:.1f} s (rope {args.rope_layout}, {args.dtype})", flush=True)

    results = {}
    if "pride" in which:
        results["reference_pride.json"], _ = run_pride(args, model, tok, header)
        if not write:
            compare_to_fixture(out / "reference_pride.json", "next_token_logprob",
                               results["reference_pride.json"]["next_token_logprob"])
    if "greedy" in which:
        results["reference_greedy.json"] = run_greedy(model, tok, header)
    if "batch" in which:
        results["reference_batch.json"] = run_batch(model, tok, header)

    if write:
        for name, fixture in results.items():
            size = write_json_atomic(out / name, fixture)
            print(f"wrote {out / name} ({size} bytes)")
            if size >= 300_000:
                sys.exit(f"error: {name} is {size} bytes, over the 300 KB budget")
    else:
        print("(documentation run: fixtures not written)")
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
