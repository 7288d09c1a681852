"""The quiz library: the example quizzes shipped in quizzes/ plus uploads kept by the backend."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

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


class QuizLibrary:
    def __init__(self, backend: Backend, builtin_dir: Path) -> None:
        self._backend = backend
        self._builtin: dict[str, dict[str, Any]] = {}
        for path in sorted(builtin_dir.glob("*.json")):
            if path.name == "schema.json":
                continue
            result = validate_quiz_bytes(path.read_bytes())
            if result.quiz is None:
                log.error("example quiz %s is invalid: %s", path, result.errors)
                continue
            self._builtin[result.quiz["id"]] = result.quiz

    async def _uploads(self) -> dict[str, dict[str, Any]]:
        raw = await self._backend.store_all(COLLECTION)
        return {key: json.loads(value) for key, value in raw.items()}

    async def list(self) -> list[dict[str, Any]]:
        items = [summary(quiz, True) for quiz in self._builtin.values()]
        items += [summary(quiz, False) for quiz in (await self._uploads()).values()]
        return sorted(items, key=lambda s: (not s["builtin"], s["title"].casefold()))

    async def get(self, quiz_id: str) -> dict[str, Any] | None:
        if quiz_id in self._builtin:
            return self._builtin[quiz_id]
        if not quiz_id.replace("-", "").isalnum():
            return None
        raw = await self._backend.store_get(COLLECTION, quiz_id)
        return json.loads(raw) if raw else None

    async def add(self, quiz: dict[str, Any]) -> str:
        """Store a validated quiz; an upload with the id of an example quiz gets a new id."""
        quiz = dict(quiz)
        base = quiz["id"]
        n = 1
        while quiz["id"] in self._builtin:
            n += 1
            quiz["id"] = f"{base[:58]}-{n}"
        data = json.dumps(quiz, ensure_ascii=False).encode()
        await self._backend.store_put(COLLECTION, quiz["id"], data)
        return str(quiz["id"])
