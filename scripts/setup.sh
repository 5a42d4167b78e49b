#!/usr/bin/env bash
# `make setup`: system packages the build and plots need, then the verified
# model and data (scripts/fetch_assets.py). Idempotent and quick when done.
# Extra arguments go to fetch_assets.py (e.g. --verify).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "setup: $*" >&2; exit 1; }

have_deb() { # true when a Debian package is installed
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

need=()
if command -v dpkg-query >/dev/null; then
    have_deb libopenblas-dev || need+=(libopenblas-dev)
    command -v gnuplot >/dev/null || need+=(gnuplot-nox)
    command -v python3 >/dev/null || need+=(python3)
    # pip is what fetches the PyPI wheels; Debian ships it separately. Only
    # worth installing as root: a pre-seeded cache works without it.
    if [ "$(id -u)" -eq 0 ] && ! { command -v python3 >/dev/null && python3 -c 'import importlib.util as u, sys; sys.exit(u.find_spec("pip") is None)' 2>/dev/null; }; then
        need+=(python3-pip ca-certificates)
    fi
else
    # Not Debian: nothing to install with, so only check and say what is missing.
    command -v gnuplot >/dev/null || die "gnuplot is missing; install it (Debian: gnuplot-nox) and rerun"
    echo "setup: no dpkg here; make sure OpenBLAS with cblas.h (Debian: libopenblas-dev) is installed"
fi

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        die "missing system packages; run: sudo apt-get install -y ${need[*]}   (then rerun make setup)"
    fi
    echo "setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    install() { apt-get install -y -q --no-install-recommends "${need[@]}"; }
    lists_empty() { [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)" ]; }
    # apt-get update only when needed: empty lists (fresh image) or a failed install.
    if lists_empty || ! install; then
        apt-get update -q && install || die "apt-get install ${need[*]} failed (see above)"
    fi
fi

command -v python3 >/dev/null || die "python3 not found; install Python 3.9+ (Debian: apt-get install python3) and rerun"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
    || die "python3 is $(python3 -V 2>&1); fetch_assets.py needs Python 3.9 or newer"

exec python3 scripts/fetch_assets.py "$@"
