"""Reading members out of wheels (zip) and Debian packages (ar + tar)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import zipfile


class ArchiveError(ValueError):
    pass


def zip_member(path: str, member: str) -> bytes:
    try:
        with zipfile.ZipFile(path) as z:
            return z.read(member)  # zipfile checks the member's CRC
    except KeyError:
        raise ArchiveError(f"{path} has no member {member}") from None
    except (zipfile.BadZipFile, OSError) as e:
        raise ArchiveError(f"{path}: {e}") from None


def _ar_members(data: bytes):
    """Yield (name, bytes) of a Unix ar archive (the .deb container)."""
    if data[:8] != b"!<arch>\n":
        raise ArchiveError("not an ar archive (.deb)")
    p = 8
    while p + 60 <= len(data):
        h = data[p:p + 60]
        if h[58:60] != b"`\n":
            raise ArchiveError("corrupt ar header in .deb")
        name = h[:16].decode("ascii").strip().rstrip("/")
        size = int(h[48:58].decode("ascii").strip())
        p += 60
        yield name, data[p:p + size]
        p += size + (size & 1)  # members are 2-byte aligned


def deb_members(path: str, wanted: list[str]) -> dict[str, bytes]:
    """Return the bytes of the given paths (e.g. "usr/lib/.../x.rdb") from a .deb's data.tar.*."""
    with open(path, "rb") as f:
        data = f.read()
    tar_bytes = None
    for name, body in _ar_members(data):
        if name.startswith("data.tar"):
            tar_bytes = body
            break
    if tar_bytes is None:
        raise ArchiveError(f"{path} has no data.tar member")
    try:
        tf = tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:*")
    except tarfile.ReadError:
        # e.g. zstd-compressed data.tar on newer Debian: let dpkg-deb decode it.
        if not shutil.which("dpkg-deb"):
            raise ArchiveError(f"{path}: cannot decompress its data.tar (no dpkg-deb)") from None
        raw = subprocess.run(["dpkg-deb", "--fsys-tarfile", path], check=True,
                             capture_output=True).stdout
        tf = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
    out = {}
    with tf:
        for m in tf.getmembers():
            name = m.name.removeprefix("./")
            if name in wanted and m.isfile():
                out[name] = tf.extractfile(m).read()
    missing = [w for w in wanted if w not in out]
    if missing:
        raise ArchiveError(f"{path} lacks {', '.join(missing)}")
    return out
