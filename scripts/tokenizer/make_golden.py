#!/usr/bin/env python3
"""Golden token ids for the Swift tokenizer tests, from an independent reference.

Builds a Hugging Face `tokenizers` BPE tokenizer from the vocabulary and merges
stored in the GGUF (read by dump_vocab.py), configured like SmolLM2's
tokenizer.json: no normalizer, pre-tokenizer
Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False,
use_regex=True)], BPE without dropout/unk/byte-fallback/ignore_merges.

Each corpus string is encoded twice:
  ids          -- control tokens are NOT recognised (plain-text encoding);
  ids_special  -- control tokens (GGUF token type 3) are added as special
                  tokens and match whole, as a chat prompt needs.

Pinned reference: tokenizers==0.21.1 (pip install --user tokenizers==0.21.1,
or into a throw-away venv). Usage:

    python3 make_golden.py MODEL.gguf CORPUS.json OUT.json
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump_vocab import GGUFError, tokenizer_metadata  # noqa: E402

PINNED_TOKENIZERS = "0.21.1"
CONTROL = 3


def build(tokens: list[str], merges: list[str], specials: list[str]):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise SystemExit("error: duplicate token strings in the vocabulary")
    pairs = []
    for m in merges:
        left, sep, right = m.partition(" ")
        if not sep or not left or not right:
            raise SystemExit(f"error: malformed merge {m!r}")
        pairs.append((left, right))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, dropout=None, unk_token=None,
                               fuse_unk=False, byte_fallback=False, ignore_merges=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    if specials:
        tok.add_special_tokens([AddedToken(s, special=True, normalized=False,
                                           lstrip=False, rstrip=False, single_word=False)
                                for s in specials])
    return tok


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    gguf, corpus_path, out_path = sys.argv[1:]
    import tokenizers
    if tokenizers.__version__ != PINNED_TOKENIZERS:
        print(f"warning: tokenizers {tokenizers.__version__}, golden pinned to "
              f"{PINNED_TOKENIZERS}", file=sys.stderr)
    try:
        meta = tokenizer_metadata(gguf)
    except (OSError, GGUFError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if meta.get("tokenizer.ggml.pre") != "smollm":
        print(f"warning: pre-tokenizer is {meta.get('tokenizer.ggml.pre')!r}, not 'smollm'",
              file=sys.stderr)
    tokens = meta["tokenizer.ggml.tokens"]
    merges = meta["tokenizer.ggml.merges"]
    types = meta["tokenizer.ggml.token_type"]
    specials = [t for t, ty in zip(tokens, types) if ty == CONTROL]

    plain = build(tokens, merges, [])
    special = build(tokens, merges, specials)
    with open(corpus_path, encoding="utf-8") as f:
        corpus = json.load(f)

    cases = []
    for text in corpus:
        ids = plain.encode(text, add_special_tokens=False).ids
        ids_special = special.encode(text, add_special_tokens=False).ids
        # The reference must itself round-trip, or the golden file is suspect.
        if plain.decode(ids, skip_special_tokens=False) != text:
            print(f"warning: reference does not round-trip {text!r}", file=sys.stderr)
        cases.append({"text": text, "ids": ids, "ids_special": ids_special})

    doc = {
        "reference": f"tokenizers=={tokenizers.__version__}",
        "model": os.path.basename(gguf),
        "vocab_size": len(tokens),
        "merges": len(merges),
        "cases": cases,
    }
    out_dir = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(doc, out, ensure_ascii=False, indent=1)
        out.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out_path)
    print(f"wrote {len(cases)} cases to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
