"""Static assets for guest Wi-Fi: content-versioned URLs, the ES-module graph, cache headers."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

PREFIX = "/static"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "no-cache"

# `import … from "./x.js"` / `export … from "./x.mjs"` / `import "./x.js"`, relative only.
_IMPORT = re.compile(
    r"""(?:^|[;\n])\s*(?:import|export)\b[^;"']*?(?:\bfrom\s*)?["'](\.{1,2}/[^"']+)["']"""
)
# `import("./x.js")`: a module loaded when it is needed (not preloaded, but in the import map).
_DYNAMIC = re.compile(r"""\bimport\(\s*["'](\.{1,2}/[^"']+)["']\s*\)""")


@dataclass
class Assets:
    """Content hashes of the files under one static directory, read once and kept."""

    root: Path
    # path → ((mtime_ns, size), hash): a file edited under a running server gets a new version
    _hashes: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)
    _graphs: dict[str, list[str]] = field(default_factory=dict)
    _lazy: dict[str, list[str]] = field(default_factory=dict)

    def version(self, path: str) -> str:
        """A short hash of the file's bytes ("" for a missing file)."""
        full = self.root / path
        try:
            stat = full.stat()
        except OSError:
            return ""
        key = (stat.st_mtime_ns, stat.st_size)
        known = self._hashes.get(path)
        if known is None or known[0] != key:
            try:
                data = full.read_bytes()
            except OSError:
                return ""
            known = (key, hashlib.sha256(data).hexdigest()[:12])
            self._hashes[path] = known
        return known[1]

    def url(self, path: str) -> str:
        """`css/app.css` → `/static/css/app.css?v=<hash>`: a new file gets a new URL."""
        version = self.version(path)
        return f"{PREFIX}/{path}?v={version}" if version else f"{PREFIX}/{path}"

    def _read(self, path: str) -> str:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except OSError:
            return ""

    @staticmethod
    def _resolve(path: str, spec: str) -> str:
        return os.path.normpath(str(PurePosixPath(path).parent / spec)).replace(os.sep, "/")

    def _walk(self, roots: list[str], seen: list[str]) -> list[str]:
        """`roots` and every module they import statically, except those in `seen`."""
        found: list[str] = []
        todo = list(roots)
        while todo:
            path = todo.pop(0)
            if path in seen or path in found:
                continue
            found.append(path)
            todo.extend(self._resolve(path, spec) for spec in _IMPORT.findall(self._read(path)))
        return found

    def module_graph(self, entry: str) -> list[str]:
        """Every module `entry` imports statically, directly or not, entry first (static paths):
        what the page preloads."""
        if entry not in self._graphs:
            self._graphs[entry] = self._walk([entry], [])
        return self._graphs[entry]

    def lazy_modules(self, entry: str) -> list[str]:
        """The modules the graph loads with `import(…)` when they are needed (and what those
        import), not already in the static graph: mapped to versioned URLs, never preloaded."""
        if entry not in self._lazy:
            seen = list(self.module_graph(entry))
            lazy: list[str] = []
            todo = list(seen)
            while todo:
                path = todo.pop(0)
                roots = [self._resolve(path, s) for s in _DYNAMIC.findall(self._read(path))]
                found = self._walk(roots, seen + lazy)
                lazy.extend(found)
                todo.extend(found)
            self._lazy[entry] = lazy
        return self._lazy[entry]

    def import_map(self, entry: str) -> dict[str, dict[str, str]]:
        """Maps each plain module URL of the graph to its versioned URL, so the relative imports
        inside the modules (which name no version) also hit the long-cached copies."""
        modules = [*self.module_graph(entry), *self.lazy_modules(entry)]
        return {"imports": {f"{PREFIX}/{p}": self.url(p) for p in modules}}

    def import_map_json(self, entry: str) -> str:
        """The import map as JSON that is safe inside a <script> element."""
        return json.dumps(self.import_map(entry)).replace("<", "\\u003c")


class CachedStaticFiles(StaticFiles):
    """StaticFiles with a cache lifetime: a year for a URL carrying the file's current version,
    revalidation (ETag) for everything else."""

    def __init__(self, *, directory: Path, assets: Assets) -> None:
        super().__init__(directory=directory)
        self.assets = assets

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        query = scope.get("query_string", b"").decode("latin-1")
        wanted = re.search(r"(?:^|&)v=([0-9a-f]+)(?:&|$)", query)
        path = self.get_path(scope).replace(os.sep, "/")
        current = wanted is not None and wanted.group(1) == self.assets.version(path)
        response.headers["Cache-Control"] = LONG_CACHE if current else SHORT_CACHE
        return response
