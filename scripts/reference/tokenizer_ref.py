"""SmolLM2 byte-level BPE tokenizer rebuilt from the GGUF vocabulary with HF `tokenizers`.

Independent of the Swift tokenizer: the vocabulary and merges come from the
GGUF metadata, the pipeline mirrors SmolLM2's published tokenizer.json
(digits split one by one, then the GPT-2 byte-level regex; ByteLevel decoder).
No BOS is added.
"""
from __future__ import annotations

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

from gguf_min import GGUFFile

_TOKEN_TYPE_CONTROL = 3


def build_tokenizer(gguf: GGUFFile) -> Tokenizer:
    md = gguf.metadata
    if md.get("tokenizer.ggml.model") != "gpt2":
        raise ValueError(f"expected a gpt2 (byte-level BPE) tokenizer, got {md.get('tokenizer.ggml.model')!r}")
    tokens = md["tokenizer.ggml.tokens"]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError("duplicate tokens in tokenizer.ggml.tokens")
    # GGUF stores merges as "left right"; byte-level symbols never contain a raw space.
    merges = [tuple(m.split(" ")) for m in md["tokenizer.ggml.merges"]]
    bpe = models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False)
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    # Control tokens (<|endoftext|>, <|im_start|>, ...) are atomic specials, as in HF's tokenizer.json.
    types = md.get("tokenizer.ggml.token_type", [])
    specials = [tokens[i] for i, t in enumerate(types) if t == _TOKEN_TYPE_CONTROL]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    for s in specials:
        assert tok.token_to_id(s) == vocab[s], f"special {s} changed id"
    return tok


def encode(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


def decode(tok: Tokenizer, ids: list[int]) -> str:
    return tok.decode(ids, skip_special_tokens=False)
