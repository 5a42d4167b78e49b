"""Minimal reader for Arrow IPC *stream* files such as the HuggingFace
`datasets` cache files (data-*.arrow). Supports flat schemas of
utf8/large_utf8, signed/unsigned integers, floats and booleans, uncompressed
record batches, validity bitmaps. Anything else raises ArrowError naming it.

Flatbuffer layout (Arrow format/Message.fbs, Schema.fbs) is read by hand:
a table starts with an int32 offset back to its vtable; the vtable lists
uint16 field offsets; references to tables/vectors/strings are uint32
offsets relative to where they are stored."""

import struct


class ArrowError(ValueError):
    pass


class _Table:
    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        vt_len = struct.unpack_from("<H", buf, vt)[0]
        self.slots = [struct.unpack_from("<H", buf, vt + 4 + 2 * i)[0]
                      for i in range((vt_len - 4) // 2)]

    def _at(self, i):
        return self.pos + self.slots[i] if i < len(self.slots) and self.slots[i] else None

    def scalar(self, i, fmt, default=0):
        p = self._at(i)
        return default if p is None else struct.unpack_from("<" + fmt, self.buf, p)[0]

    def _deref(self, p):
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, i):
        p = self._at(i)
        return None if p is None else _Table(self.buf, self._deref(p))

    def string(self, i):
        p = self._at(i)
        if p is None:
            return None
        s = self._deref(p)
        n = struct.unpack_from("<I", self.buf, s)[0]
        return self.buf[s + 4:s + 4 + n].decode("utf-8")

    def vector(self, i):
        """(start, count) of a vector field, or (0, 0) when absent."""
        p = self._at(i)
        if p is None:
            return 0, 0
        s = self._deref(p)
        return s + 4, struct.unpack_from("<I", self.buf, s)[0]

    def tables(self, i):
        start, n = self.vector(i)
        return [_Table(self.buf, self._deref(start + 4 * k)) for k in range(n)]


# Type union tags (Schema.fbs).
_T_INT, _T_FLOAT, _T_UTF8, _T_BOOL, _T_LARGE_UTF8 = 2, 3, 5, 6, 20
# MessageHeader union tags (Message.fbs).
_H_SCHEMA, _H_DICT, _H_BATCH = 1, 2, 3


def _field(t: _Table):
    name = t.string(0)
    type_tag = t.scalar(2, "B")
    type_tab = t.table(3)
    if t.table(4) is not None:
        raise ArrowError(f"column {name!r} is dictionary-encoded (unsupported)")
    if type_tag == _T_INT:
        bits, signed = type_tab.scalar(0, "i"), bool(type_tab.scalar(1, "B"))
        fmt = {8: "b", 16: "h", 32: "i", 64: "q"}.get(bits)
        if fmt is None:
            raise ArrowError(f"column {name!r}: int bit width {bits}")
        return name, ("int", fmt if signed else fmt.upper())
    if type_tag == _T_FLOAT:
        prec = type_tab.scalar(0, "h")
        if prec not in (1, 2):
            raise ArrowError(f"column {name!r}: half floats unsupported")
        return name, ("float", "f" if prec == 1 else "d")
    if type_tag == _T_UTF8:
        return name, ("utf8", "i")
    if type_tag == _T_LARGE_UTF8:
        return name, ("utf8", "q")
    if type_tag == _T_BOOL:
        return name, ("bool", None)
    raise ArrowError(f"column {name!r}: Arrow type tag {type_tag} unsupported")


def _valid(bitmap: bytes, i: int):
    return bool(bitmap[i >> 3] >> (i & 7) & 1)


def _column(kind, fmt, n, nulls, bufs):
    validity, *rest = bufs
    if kind == "int" or kind == "float":
        vals = list(struct.unpack_from(f"<{n}{fmt}", rest[0], 0))
    elif kind == "bool":
        vals = [_valid(rest[0], i) for i in range(n)]
    else:  # utf8: offsets then data
        offs = struct.unpack_from(f"<{n + 1}{fmt}", rest[0], 0)
        data = rest[1]
        vals = [data[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    if nulls:
        vals = [v if _valid(validity, i) else None for i, v in enumerate(vals)]
    return vals


def _buffers_per_kind(kind):
    return 3 if kind == "utf8" else 2


def read_stream(data: bytes):
    """Return (column_names, rows) where rows is a list of dicts in column order."""
    p = 0
    schema = None
    rows = []
    while p + 4 <= len(data):
        n = struct.unpack_from("<i", data, p)[0]
        p += 4
        if n == -1:  # continuation marker (Arrow >= 0.15), length follows
            n = struct.unpack_from("<i", data, p)[0]
            p += 4
        if n == 0:
            break  # end of stream
        meta = data[p:p + n]
        p += n
        msg = _Table(meta, struct.unpack_from("<I", meta, 0)[0])
        htype = msg.scalar(1, "B")
        header = msg.table(2)
        body_len = msg.scalar(3, "q")
        body = data[p:p + body_len]
        if len(body) != body_len:
            raise ArrowError("truncated Arrow stream")
        p += body_len
        if htype == _H_SCHEMA:
            schema = [_field(f) for f in header.tables(1)]
            for f in header.tables(1):
                if f.vector(5)[1]:
                    raise ArrowError(f"nested column {f.string(0)!r} unsupported")
        elif htype == _H_BATCH:
            if schema is None:
                raise ArrowError("record batch before schema")
            if header.table(3) is not None:
                raise ArrowError("compressed record batches unsupported")
            length = header.scalar(0, "q")
            ns, nn = header.vector(1)
            bs, nb = header.vector(2)
            nodes = [struct.unpack_from("<qq", meta, ns + 16 * i) for i in range(nn)]
            bufs = [struct.unpack_from("<qq", meta, bs + 16 * i) for i in range(nb)]
            if len(nodes) != len(schema):
                raise ArrowError("record batch node count does not match schema")
            cols, bi = [], 0
            for (name, (kind, fmt)), (count, nulls) in zip(schema, nodes):
                k = _buffers_per_kind(kind)
                raw = [body[o:o + ln] for o, ln in bufs[bi:bi + k]]
                bi += k
                cols.append(_column(kind, fmt, count, nulls, raw))
            names = [s[0] for s in schema]
            for i in range(length):
                rows.append({nm: c[i] for nm, c in zip(names, cols)})
        elif htype == _H_DICT:
            raise ArrowError("dictionary batches unsupported")
        else:
            raise ArrowError(f"unexpected Arrow message type {htype}")
    if schema is None:
        raise ArrowError("no schema in Arrow stream")
    return [s[0] for s in schema], rows
