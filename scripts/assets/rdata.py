"""Reader for R's XDR serialization (format 'X', versions 2 and 3) and for the
lazy-load databases (`*.rdx` index + `*.rdb` records) R packages ship their
data in. Only what data packages need is supported: pairlists, symbols,
character/logical/integer/double/raw/generic vectors, attributes, references
and the common ALTREP classes. Anything else raises RDataError naming it."""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from dataclasses import dataclass, field

# SEXP type codes (R internals, serialize.c).
NILSXP, SYMSXP, LISTSXP, CLOSXP, ENVSXP, PROMSXP, LANGSXP = 0, 1, 2, 3, 4, 5, 6
CHARSXP, LGLSXP, INTSXP, REALSXP, CPLXSXP, STRSXP = 9, 10, 13, 14, 15, 16
DOTSXP, VECSXP, EXPRSXP, RAWSXP, S4SXP = 17, 19, 20, 24, 25
# Pseudo-SEXPs used only in the stream.
REFSXP, NILVALUE_SXP, GLOBALENV_SXP, UNBOUNDVALUE_SXP = 255, 254, 253, 252
MISSINGARG_SXP, BASENAMESPACE_SXP, NAMESPACESXP, PACKAGESXP = 251, 250, 249, 248
PERSISTSXP, EMPTYENV_SXP, BASEENV_SXP = 247, 242, 241
ATTRLANGSXP, ATTRLISTSXP, ALTREP_SXP = 240, 239, 238

NA_INTEGER = -(2 ** 31)
_PAIRLIKE = {LISTSXP, LANGSXP, CLOSXP, PROMSXP, DOTSXP, ATTRLANGSXP, ATTRLISTSXP}
_CHARSXP_LATIN1, _CHARSXP_BYTES = 1 << 2, 1 << 1


class RDataError(ValueError):
    pass


@dataclass(frozen=True)
class RSymbol:
    name: str


@dataclass
class RObject:
    """A deserialized R value. `kind` is an R type name ("character",
    "integer", "list", "pairlist", ...); `values` a Python list (None for NA);
    `tags` the pairlist tags; `attributes` a dict name -> RObject."""
    kind: str
    values: list
    attributes: dict = field(default_factory=dict)
    tags: list | None = None

    def names(self):
        if self.kind == "pairlist":
            return [t.name if isinstance(t, RSymbol) else None for t in self.tags]
        n = self.attributes.get("names")
        return n.values if n is not None else None

    def as_dict(self):
        """Named list or pairlist -> dict (raises if unnamed)."""
        names = self.names()
        if names is None or any(n is None for n in names):
            raise RDataError(f"R {self.kind} has no names")
        return dict(zip(names, self.values))


class _Env:
    """Placeholder for an environment (data packages only reference them)."""

    def __init__(self):
        self.frame = None
        self.enclos = None


class _Reader:
    def __init__(self, data: bytes):
        self.b = data
        self.p = 0
        self.refs = []

    def _take(self, n):
        if self.p + n > len(self.b):
            raise RDataError("truncated R serialization")
        out = self.b[self.p:self.p + n]
        self.p += n
        return out

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def length(self):
        n = self.int()
        if n == -1:  # long vector: two more ints, upper and lower half
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        if n < 0:
            raise RDataError(f"bad vector length {n}")
        return n

    def header(self):
        fmt = self._take(2)
        if fmt != b"X\n":
            raise RDataError(f"unsupported R serialization format {fmt!r} (only XDR 'X')")
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader R version
        if version == 3:
            self._take(self.int())  # native encoding name
        elif version != 2:
            raise RDataError(f"unsupported R serialization version {version}")

    def charsxp(self, levels):
        n = self.int()
        if n == -1:
            return None  # NA_STRING
        raw = self._take(n)
        if levels & _CHARSXP_LATIN1:
            return raw.decode("latin-1")
        if levels & _CHARSXP_BYTES:
            return raw.decode("utf-8", errors="surrogateescape")
        return raw.decode("utf-8")

    def attributes(self, has_attr):
        if not has_attr:
            return {}
        pl = self.item()
        if not isinstance(pl, RObject) or pl.kind != "pairlist":
            raise RDataError("attributes are not a pairlist")
        return pl.as_dict()

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        levels = flags >> 12
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))

        if t in (NILVALUE_SXP, NILSXP):
            return None
        if t == REFSXP:
            idx = flags >> 8 or self.int()
            if not 1 <= idx <= len(self.refs):
                raise RDataError(f"bad reference index {idx}")
            return self.refs[idx - 1]
        if t in (EMPTYENV_SXP, BASEENV_SXP, GLOBALENV_SXP, UNBOUNDVALUE_SXP,
                 MISSINGARG_SXP, BASENAMESPACE_SXP):
            return RSymbol(f"<special {t}>")
        if t in (PERSISTSXP, NAMESPACESXP, PACKAGESXP):
            # A string vector naming the object; it enters the reference table.
            self.int()  # always 0
            names = [self.item() for _ in range(self.int())]
            obj = RSymbol("<persistent " + ",".join(str(n) for n in names) + ">")
            self.refs.append(obj)
            return obj
        if t == SYMSXP:
            obj = RSymbol(self.item())
            self.refs.append(obj)
            return obj
        if t == ENVSXP:
            env = _Env()
            self.refs.append(env)
            self.int()  # locked flag
            env.enclos = self.item()
            env.frame = self.item()
            self.item()  # hash table
            self.item()  # attributes
            return env
        if t in _PAIRLIKE:
            return self.pairlist(t, has_attr, has_tag)
        if t == CHARSXP:
            return self.charsxp(levels)
        if t == ALTREP_SXP:
            return self.altrep()
        if t in (LGLSXP, INTSXP):
            n = self.length()
            vals = [None if v == NA_INTEGER else v
                    for v in struct.unpack(f">{n}i", self._take(4 * n))]
            if t == LGLSXP:
                vals = [None if v is None else bool(v) for v in vals]
            kind = "logical" if t == LGLSXP else "integer"
        elif t == REALSXP:
            n = self.length()
            vals = list(struct.unpack(f">{n}d", self._take(8 * n)))
            kind = "double"
        elif t == CPLXSXP:
            n = self.length()
            d = struct.unpack(f">{2 * n}d", self._take(16 * n))
            vals = [complex(d[2 * i], d[2 * i + 1]) for i in range(n)]
            kind = "complex"
        elif t == STRSXP:
            n = self.length()
            vals = []
            for _ in range(n):
                f = self.int()
                if f & 0xFF != CHARSXP:
                    raise RDataError(f"string vector element of type {f & 0xFF}")
                vals.append(self.charsxp(f >> 12))
            kind = "character"
        elif t in (VECSXP, EXPRSXP):
            n = self.length()
            vals = [self.item() for _ in range(n)]
            kind = "list" if t == VECSXP else "expression"
        elif t == RAWSXP:
            n = self.length()
            vals = list(self._take(n))
            kind = "raw"
        else:
            raise RDataError(f"unsupported R object type {t} in serialization")
        return RObject(kind, vals, self.attributes(has_attr))

    def pairlist(self, t, has_attr, has_tag):
        # Iterate along CDRs instead of recursing so long pairlists are fine.
        kind = "pairlist" if t in (LISTSXP, ATTRLISTSXP) else "language"
        out = RObject(kind, [], tags=[])
        first = True
        while True:
            attrs = self.attributes(has_attr)
            if first:
                out.attributes = attrs
                first = False
            out.tags.append(self.item() if has_tag else None)
            out.values.append(self.item())
            flags = self.int()
            nt = flags & 0xFF
            if nt in (NILVALUE_SXP, NILSXP):
                return out
            if nt not in _PAIRLIKE:
                # Dotted pair: rewind and store the tail as a final value.
                self.p -= 4
                out.tags.append(None)
                out.values.append(self.item())
                return out
            has_attr = bool(flags & (1 << 9))
            has_tag = bool(flags & (1 << 10))

    def altrep(self):
        info = self.item()
        state = self.item()
        attrs = self.item()
        cls = info.values[0].name if isinstance(info, RObject) and info.values else "?"
        if cls == "compact_intseq":
            n, start, step = (int(v) for v in state.values[:3])
            obj = RObject("integer", [start + i * step for i in range(n)])
        elif cls == "compact_realseq":
            n, start, step = state.values[:3]
            obj = RObject("double", [start + i * step for i in range(int(n))])
        elif cls.startswith("wrap_"):
            obj = state.values[0]
        elif cls == "deferred_string":
            arg = state.values[0] if isinstance(state, RObject) and state.kind == "pairlist" else state
            obj = RObject("character", [None if v is None else _num_str(v) for v in arg.values])
        else:
            raise RDataError(f"unsupported ALTREP class {cls}")
        if isinstance(attrs, RObject) and attrs.kind == "pairlist":
            obj.attributes = attrs.as_dict()
        return obj


def _num_str(v):
    return str(int(v)) if float(v).is_integer() else repr(v)


def unserialize(data: bytes):
    """Deserialize one R object from XDR bytes (as written by saveRDS/serialize)."""
    r = _Reader(data)
    r.header()
    return r.item()


def _decompress_record(rec: bytes, compressed: int) -> bytes:
    # Lazy-load records: 4-byte big-endian uncompressed length, then for
    # type 1 a zlib stream, for types 2/3 a one-byte method tag first.
    if len(rec) < 5:
        raise RDataError("lazy-load record too short")
    n = struct.unpack(">I", rec[:4])[0]
    if compressed == 1:
        out = zlib.decompress(rec[4:])
    else:
        method, body = rec[4:5], rec[5:]
        if method == b"Z":
            out = zlib.decompress(body)
        elif method == b"2":
            out = bz2.decompress(body)
        elif method == b"X":
            out = lzma.decompress(body)
        elif method == b"0":
            out = body
        else:
            raise RDataError(f"unknown lazy-load compression method {method!r}")
    if len(out) != n:
        raise RDataError(f"lazy-load record length {len(out)} != declared {n}")
    return out


class LazyLoadDB:
    """An R lazy-load database: `index_bytes` is the (gzip) .rdx file, `db` the .rdb."""

    def __init__(self, index_bytes: bytes, db: bytes):
        if index_bytes[:2] == b"\x1f\x8b":
            index_bytes = gzip.decompress(index_bytes)
        index = unserialize(index_bytes).as_dict()
        self.variables = index["variables"].as_dict()
        comp = index.get("compressed")
        self.compressed = 1 if comp is None else int(comp.values[0])
        self.db = db

    def names(self):
        return list(self.variables)

    def get(self, name: str):
        if name not in self.variables:
            raise RDataError(f"variable {name!r} not in lazy-load index")
        off, length = self.variables[name].values[:2]
        rec = self.db[off:off + length]
        if len(rec) != length:
            raise RDataError(f"record for {name!r} runs past the end of the .rdb")
        return unserialize(_decompress_record(rec, self.compressed))
