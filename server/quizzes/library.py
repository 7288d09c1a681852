"""The quiz library: the example quizzes shipped in quizzes/ plus uploads kept by the backend."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.hub import codes
from server.hub.backend import Backend
from server.quizzes.validate import validate_quiz_bytes

log = logging.getLogger("kenniskring.library")
COLLECTION = "quizzes"


def summary(quiz: dict[str, Any], builtin: bool) -> dict[str, Any]:
    return {
        "id": quiz["id"],
        "title": quiz["title"],
        "theme": quiz.get("theme", ""),
        "author": quiz.get("author", ""),
        "language": quiz.get("language", "nl"),
        "description": quiz.get("description", ""),
        "questions": len(quiz["questions"]),
        "builtin": builtin,
    }


TEMPLATE = "_voorbeeldbestand.json"


class QuizLibrary:
    def __init__(self, backend: Backend, builtin_dir: Path) -> None:
        self._backend = backend
        self._builtin: dict[str, dict[str, Any]] = {}
        # The file an author starts from: every kind of question, not in the library (a game
        # never shows its answers to anyone, and this one anyone may download).
        self.template = (builtin_dir / TEMPLATE).read_bytes()
        for path in sorted(builtin_dir.glob("*.json")):
            if path.name == "schema.json" or path.name.startswith("_"):
                continue
            result = validate_quiz_bytes(path.read_bytes())
            if result.quiz is None:
                log.error("example quiz %s is invalid: %s", path, result.errors)
                continue
            self._builtin[result.quiz["id"]] = result.quiz

    async def _uploads(self) -> dict[str, dict[str, Any]]:
        raw = await self._backend.store_all(COLLECTION)
        return {key: _stored(value)[0] for key, value in raw.items()}

    async def list(self) -> list[dict[str, Any]]:
        items = [summary(quiz, True) for quiz in self._builtin.values()]
        items += [summary(quiz, False) for quiz in (await self._uploads()).values()]
        return sorted(items, key=lambda s: (not s["builtin"], s["title"].casefold()))

    def is_builtin(self, quiz_id: str) -> bool:
        return quiz_id in self._builtin

    async def get(self, quiz_id: str) -> dict[str, Any] | None:
        """The whole quiz, answers included: for the server itself (a room being created) and for
        whoever proved to be its author (`owned_by`)."""
        if quiz_id in self._builtin:
            return self._builtin[quiz_id]
        if not _ID.match(quiz_id):
            return None
        raw = await self._backend.store_get(COLLECTION, quiz_id)
        return _stored(raw)[0] if raw else None

    async def owned_by(self, quiz_id: str, edit_secret: str) -> bool:
        """True when `edit_secret` is the one handed out when `quiz_id` was uploaded."""
        if not edit_secret or quiz_id in self._builtin or not _ID.match(quiz_id):
            return False
        raw = await self._backend.store_get(COLLECTION, quiz_id)
        digest = _stored(raw)[1] if raw else ""
        return bool(digest) and codes.matches(edit_secret, digest)

    async def add(self, quiz: dict[str, Any], edit_secret: str = "") -> Added:
        """Store a validated quiz. With the edit secret of an earlier upload of the same id it
        replaces that one; otherwise a taken id (an example's, or someone else's upload) gets a
        new id, `<id>-2`, `<id>-3`, … and the quiz a new edit secret."""
        quiz = dict(quiz)
        wanted = str(quiz["id"])
        if await self.owned_by(wanted, edit_secret):
            await self._backend.store_put(COLLECTION, wanted, _record(quiz, edit_secret))
            return Added(wanted, edit_secret, replaced=True)
        secret = codes.token()
        for n in range(1, MAX_SUFFIX + 1):
            quiz["id"] = wanted if n == 1 else f"{wanted[:58]}-{n}"
            if quiz["id"] in self._builtin:
                continue
            record = _record(quiz, secret)
            if await self._backend.store_put(COLLECTION, quiz["id"], record, only_new=True):
                return Added(quiz["id"], secret, renamed_from=wanted if n > 1 else "")
        raise LibraryFull(wanted)

    async def delete(self, quiz_id: str, edit_secret: str) -> bool:
        """Remove an upload; only with its edit secret."""
        if not await self.owned_by(quiz_id, edit_secret):
            return False
        return await self._backend.store_delete(COLLECTION, quiz_id)


@dataclass(frozen=True)
class Added:
    id: str
    edit_secret: str
    replaced: bool = False
    renamed_from: str = ""


class LibraryFull(Exception):
    """Every suffixed id of an upload is taken."""


MAX_SUFFIX = 200
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _record(quiz: dict[str, Any], edit_secret: str) -> bytes:
    """An upload as stored: the quiz and the digest of its edit secret."""
    record = {"quiz": quiz, "edit_secret": codes.digest(edit_secret)}
    return json.dumps(record, ensure_ascii=False).encode()


def _stored(raw: bytes) -> tuple[dict[str, Any], str]:
    """(quiz, edit secret digest); uploads from before edit secrets are the bare quiz, owned by
    nobody."""
    data = json.loads(raw)
    if isinstance(data, dict) and "quiz" in data and "edit_secret" in data:
        return data["quiz"], str(data["edit_secret"])
    return data, ""
