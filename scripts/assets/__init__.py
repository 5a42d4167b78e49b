"""Helpers for scripts/fetch_assets.py: small, dependency-free readers for the
container formats the project's assets arrive in (wheel/zip, Debian .deb,
R lazy-load databases, Arrow IPC streams)."""
