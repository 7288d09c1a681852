"""Durable key/value files under the data directory (quiz uploads, bokaal history)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class FileStore:
    """One folder per collection, one file per key; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, collection: str, key: str) -> Path:
        if not _SAFE.match(collection) or not _SAFE.match(key) or ".." in key:
            raise ValueError(f"unsafe store key {collection}/{key}")
        return self.root / collection / f"{key}.bin"

    def put(self, collection: str, key: str, value: bytes) -> None:
        path = self._path(collection, key)
        tmp = self._written(path, value)
        os.replace(tmp, path)

    def add(self, collection: str, key: str, value: bytes) -> bool:
        """Only if `key` is new: a hard link fails atomically when the name exists."""
        path = self._path(collection, key)
        tmp = self._written(path, value)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            Path(tmp).unlink(missing_ok=True)
        return True

    def delete(self, collection: str, key: str) -> bool:
        try:
            self._path(collection, key).unlink()
        except FileNotFoundError:
            return False
        return True

    @staticmethod
    def _written(path: Path, value: bytes) -> str:
        """`value` in a fsynced temporary file beside `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(value)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp

    def get(self, collection: str, key: str) -> bytes | None:
        try:
            return self._path(collection, key).read_bytes()
        except FileNotFoundError:
            return None

    def all(self, collection: str) -> dict[str, bytes]:
        folder = self.root / collection
        if not folder.is_dir():
            return {}
        return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.bin"))}
