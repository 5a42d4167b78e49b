#!/usr/bin/env python3
"""Independent few-shot scorer: golden log-likelihoods for Tests/EvaluationTests.

Scores the first N items (default 50) of five 5-shot tasks with the numpy reference
(llama_ref.py, tokenizer_ref.py): every (context, continuation) pair is one full causal
forward pass with no KV cache, and a choice's score is the summed log-softmax of its
continuation tokens. Writes (atomically) Tests/EvaluationTests/Fixtures/fewshot_reference.json.

Prompt rules (implemented here independently of the Swift side, which must agree):

* piqa, winogrande, openbookqa: `$INFINIGEN_CACHE/tasks/<task>_rc_5shot.jsonl` (OLMES
  ranked-classification requests) used as they are. Lines grouped by doc_id (ascending);
  choice = idx, gold = label. WinoGrande: the contexts differ per choice and the
  continuation is shared.
* copa, rte: built from `<task>_validation.jsonl` (the only split available), lm-eval-harness
  formats, 5 examples drawn from the other validation rows (the scored row is left out):
    - COPA: text(doc) = premise.strip() minus its last character (the period) + " because"
      (question "cause") or " therefore" ("effect"); choice(c) = " " + c[0].lower() + c[1:];
      choices = [choice(choice1), choice(choice2)]; gold = label.
    - RTE: text(doc) = sentence1 + "\\nQuestion: " + sentence2 + " True or False?\\nAnswer:";
      choices = [" True", " False"]; gold = label (0 = entailment = True).
    - context = "\\n\\n".join(text(ex) + choices(ex)[gold(ex)] for ex in examples)
                + "\\n\\n" + text(doc)    (no description, no BOS).
    - examples: SplitMix64 seeded with the row index i (0-based line number); pool = every
      row index except i, ascending; for k in 0..4: j = k + next() % (len(pool) - k),
      swap pool[k], pool[j]; examples = pool[0..4] in that order.
* Tokens: encode(context) + encode(continuation), each tokenized on its own (as lm-eval),
  no BOS. Per-character normalised score: sum / number of Unicode code points of the
  continuation (lm-eval's acc_norm).
"""
from __future__ import annotations

import os

# numpy threads: 2 by default (the machine has 2 cores); set OPENBLAS_NUM_THREADS to change.
# On a busy machine 1 is faster (2 OpenBLAS threads sharing one free core crawl): the
# committed fixture was made with OPENBLAS_NUM_THREADS=1 in 22 minutes (about 130 tokens/s).
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gguf_min import GGUFFile  # noqa: E402
from llama_ref import LlamaRef, log_softmax, rms_norm  # noqa: E402
from tokenizer_ref import build_tokenizer, encode  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TASKS = ("piqa", "winogrande", "openbookqa", "copa", "rte")
SHOTS = 5
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- few-shot sampling

class SplitMix64:
    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def draw_examples(index: int, count: int, shots: int = SHOTS) -> list[int]:
    rng = SplitMix64(index)
    pool = [i for i in range(count) if i != index]
    for k in range(shots):
        j = k + rng.next() % (len(pool) - k)
        pool[k], pool[j] = pool[j], pool[k]
    return pool[:shots]


# ---------------------------------------------------------------- task loading

def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def rc_items(path: Path) -> list[dict]:
    docs: dict[int, list[dict]] = defaultdict(list)
    for r in read_jsonl(path):
        if r["doc_id"] >= 1_000_000:  # unconditional requests (none in the cache files)
            continue
        docs[r["doc_id"]].append(r)
    items = []
    for doc_id in sorted(docs):
        rows = sorted(docs[doc_id], key=lambda r: r["idx"])
        assert [r["idx"] for r in rows] == list(range(len(rows))), f"doc {doc_id}: choices not 0..n-1"
        labels = {r["label"] for r in rows}
        assert len(labels) == 1, f"doc {doc_id}: inconsistent labels"
        items.append({"id": doc_id, "contexts": [r["context"] for r in rows],
                      "continuations": [r["continuation"] for r in rows], "gold": labels.pop()})
    return items


def copa_text(doc: dict) -> str:
    connector = {"cause": "because", "effect": "therefore"}[doc["question"]]
    return doc["premise"].strip()[:-1] + " " + connector


def copa_choices(doc: dict) -> list[str]:
    return [" " + c[0].lower() + c[1:] for c in (doc["choice1"], doc["choice2"])]


def rte_text(doc: dict) -> str:
    return f"{doc['sentence1']}\nQuestion: {doc['sentence2']} True or False?\nAnswer:"


def rte_choices(doc: dict) -> list[str]:
    return [" True", " False"]


def built_items(path: Path, text, choices) -> list[dict]:
    rows = read_jsonl(path)
    items = []
    for i, doc in enumerate(rows):
        shots = [rows[j] for j in draw_examples(i, len(rows))]
        prefix = "".join(text(ex) + choices(ex)[ex["label"]] + "\n\n" for ex in shots)
        conts = choices(doc)
        items.append({"id": i, "contexts": [prefix + text(doc)] * len(conts),
                      "continuations": conts, "gold": doc["label"], "examples": [int(r["idx"]) for r in shots]})
    return items


def load_task(name: str, tasks_dir: Path) -> list[dict]:
    if name == "copa":
        return built_items(tasks_dir / "copa_validation.jsonl", copa_text, copa_choices)
    if name == "rte":
        return built_items(tasks_dir / "rte_validation.jsonl", rte_text, rte_choices)
    return rc_items(tasks_dir / f"{name}_rc_5shot.jsonl")


# ---------------------------------------------------------------- scoring

def continuation_logprob(model: LlamaRef, ctx: list[int], cont: list[int]) -> float:
    """Full causal pass over ctx + cont; the output head runs only on the rows that
    predict continuation tokens (the rest of LlamaRef.forward, unchanged)."""
    c = model.cfg
    ids = np.asarray(ctx + cont, dtype=np.int64)
    x = model.tok_embd[ids].copy()
    for layer in model.layers:
        x = x + model.attention(rms_norm(x, layer["attn_norm"], c.rms_eps), layer)
        x = x + model.ffn(rms_norm(x, layer["ffn_norm"], c.rms_eps), layer)
    rows = x[len(ctx) - 1:len(ids) - 1]
    logits = rms_norm(rows, model.output_norm, c.rms_eps) @ model.output.T
    lp = log_softmax(logits.astype(np.float64))
    return float(lp[np.arange(len(cont)), np.asarray(cont)].sum())


def argmax_first(values: list[float]) -> int:
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def sha256_text(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def score_task(name: str, items: list[dict], model, tok) -> tuple[list[dict], float, int]:
    out = []
    t0 = time.time()
    n_tokens = 0
    for n, item in enumerate(items):
        lls, norm, counts = [], [], []
        for ctx_text, cont_text in zip(item["contexts"], item["continuations"]):
            ctx, cont = encode(tok, ctx_text), encode(tok, cont_text)
            if not ctx or not cont:
                sys.exit(f"error: {name} item {item['id']}: empty context or continuation")
            ll = continuation_logprob(model, ctx, cont)
            lls.append(ll)
            norm.append(ll / len(cont_text))
            counts.append([len(ctx), len(cont)])
            n_tokens += len(ctx) + len(cont)
        rec = {"id": item["id"], "gold": item["gold"], "loglikelihoods": lls,
               "predicted": argmax_first(lls), "predicted_norm": argmax_first(norm),
               "token_counts": counts,
               "context_sha256": [sha256_text(c) for c in item["contexts"]],
               "continuation_chars": [len(c) for c in item["continuations"]]}
        if "examples" in item:
            rec["examples"] = item["examples"]
        out.append(rec)
        if (n + 1) % 10 == 0:
            dt = time.time() - t0
            print(f"  {name}: {n + 1}/{len(items)} items, {dt:.0f} s ({n_tokens / dt:.0f} tok/s)", flush=True)
    return out, time.time() - t0, n_tokens


def write_json_atomic(path: Path, obj: dict) -> int:
    text = json.dumps(obj, indent=1, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return len(text.encode("utf-8"))


def compare_to_fixture(path: Path, tasks: dict) -> None:
    """For subset runs: the largest log-likelihood difference from the existing fixture."""
    if not path.is_file():
        return
    old = json.loads(path.read_text(encoding="utf-8"))["tasks"]
    for t, new in tasks.items():
        pairs = [(a, b) for x, y in zip(new["items"], old[t]["items"])
                 for a, b in zip(x["loglikelihoods"], y["loglikelihoods"])]
        same = all(x == y for x, y in zip(new["items"], old[t]["items"]))
        print(f"  {t} vs {path.name}: max |dll| {max(abs(a - b) for a, b in pairs):.3e}, "
              f"items identical: {same}")


NOTES = {
    "piqa": "OLMES rc 5-shot requests (piqa_rc_5shot.jsonl) as given; items = doc_id order.",
    "winogrande": "OLMES rc 5-shot requests (winogrande_rc_5shot.jsonl) as given; contexts differ "
                  "per choice, the continuation is shared.",
    "openbookqa": "OLMES rc 5-shot requests (openbookqa_rc_5shot.jsonl) as given; 4 choices.",
    "copa": "Built from the validation split (the only split available): 5 examples drawn with "
            "SplitMix64(seed = row index) from the other 99 rows, the scored row left out. "
            "lm-eval-harness format: premise without its final period + ' because'/' therefore'; "
            "choices ' ' + choice with its first letter lowercased; examples joined by blank lines.",
    "rte": "Built from the validation split (the only split available): 5 examples drawn with "
           "SplitMix64(seed = row index) from the other 276 rows, the scored row left out. "
           "lm-eval-harness format: '{sentence1}\\nQuestion: {sentence2} True or False?\\nAnswer:' "
           "with choices ' True' (label 0, entailment) / ' False'; examples joined by blank lines.",
}


def main() -> None:
    cache = Path(os.environ.get("INFINIGEN_CACHE") or Path(__file__).resolve().parents[2] / ".cache" / "infinigen")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(cache / "model/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--tasks-dir", default=str(cache / "tasks"))
    ap.add_argument("--out", default=str(REPO / "Tests/EvaluationTests/Fixtures/fewshot_reference.json"))
    ap.add_argument("--items", type=int, default=50, help="first N items of each task")
    ap.add_argument("--task", choices=TASKS, action="append", help="only these tasks (repeatable; not written)")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--dry-run", action="store_true", help="print prompts of item 0 and exit")
    args = ap.parse_args()

    model_path, tasks_dir = Path(args.model), Path(args.tasks_dir)
    if not model_path.is_file():
        sys.exit(f"error: model not found: {model_path}")
    tasks = args.task or list(TASKS)
    loaded = {t: load_task(t, tasks_dir)[:args.items] for t in tasks}
    if args.dry_run:
        for t, items in loaded.items():
            print(f"== {t} item {items[0]['id']} gold {items[0]['gold']}")
            for c, k in zip(items[0]["contexts"], items[0]["continuations"]):
                print(repr(c[-300:]), "||", repr(k))
        return

    t0 = time.time()
    gguf = GGUFFile(str(model_path))
    tok = build_tokenizer(gguf)
    model = LlamaRef(gguf, dtype=np.float64 if args.dtype == "float64" else np.float32)
    print(f"loaded in {time.time() - t0:.1f} s ({args.dtype}, "
          f"{os.environ['OPENBLAS_NUM_THREADS']} BLAS threads)", flush=True)

    fixture = {
        "generator": "scripts/reference/fewshot_ref.py (numpy reference, full recomputation, no KV cache)",
        "model_file": model_path.name,
        "model_sha256": sha256_file(model_path),
        "dtype": args.dtype,
        "bos": False,
        "shots": SHOTS,
        "items_per_task": args.items,
        "versions": {"numpy": np.__version__, "tokenizers": tokenizers.__version__,
                     "python": sys.version.split()[0]},
        "score": "sum of natural-log softmax over the continuation tokens; tokens = "
                 "encode(context) + encode(continuation), no BOS; predicted = first argmax of the "
                 "sums; predicted_norm = first argmax of sum / continuation code points",
        "tasks": {},
    }
    for t in tasks:
        records, dt, n_tok = score_task(t, loaded[t], model, tok)
        acc = sum(r["predicted"] == r["gold"] for r in records) / len(records)
        print(f"{t}: {len(records)} items, acc {acc:.3f}, {dt:.0f} s, {n_tok} tokens", flush=True)
        # No timings in the file: a rerun must reproduce it byte for byte.
        fixture["tasks"][t] = {"notes": NOTES[t], "tokens": n_tok, "accuracy": acc, "items": records}
    if args.task:
        compare_to_fixture(Path(args.out), fixture["tasks"])
        print("(subset run: fixture not written)")
    else:
        size = write_json_atomic(Path(args.out), fixture)
        print(f"wrote {args.out} ({size} bytes)")
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
