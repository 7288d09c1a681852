"""Command-line check of quiz files (``kenniskring check-quiz FILE…``).

Every error is printed to ``err`` as ``"<file>: <message>"``, the message naming the place
as people count (``vraag 1, antwoord 3``: from 1); a valid file gives
``"<file>: in orde (N vragen)"`` on stdout. ``--lang en`` says it all in English.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from server.quizzes.validate import MAX_QUIZ_BYTES, ValidationResult, validate_quiz_bytes

# What this command says itself, by language (the validator has its own messages).
_SAID = {
    "nl": {
        "missing": "bestand niet gevonden",
        "directory": "dit is een map, geen bestand",
        "denied": "geen toestemming om het bestand te lezen",
        "unreadable": "het bestand kan niet worden gelezen ({})",
        "unknown": "onbekende fout",
        "none": "geen bestanden opgegeven",
        "ok": "in orde",
        "one": "vraag",
        "many": "vragen",
    },
    "en": {
        "missing": "file not found",
        "directory": "this is a folder, not a file",
        "denied": "no permission to read the file",
        "unreadable": "the file cannot be read ({})",
        "unknown": "unknown error",
        "none": "no files given",
        "ok": "valid",
        "one": "question",
        "many": "questions",
    },
}


def _read(path: Path, said: dict[str, str]) -> bytes | str:
    """The file's bytes (at most one byte over the limit), or an error message."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_QUIZ_BYTES + 1)
    except FileNotFoundError:
        return said["missing"]
    except IsADirectoryError:
        return said["directory"]
    except PermissionError:
        return said["denied"]
    except OSError as exc:
        return said["unreadable"].format(exc.strerror or said["unknown"])


def _count(result: ValidationResult) -> int:
    questions = result.quiz.get("questions", []) if result.quiz else []
    return len(questions) if isinstance(questions, list) else 0


def check_files(paths: list[str], err: TextIO, out: TextIO | None = None, lang: str = "nl") -> int:
    """Validate quiz files; print errors to ``err``, successes to ``out`` (stdout), in
    ``lang`` ("nl", the default, or "en").

    Returns 0 when every file is a valid quiz, 1 otherwise (also for an empty list).
    """
    out = out if out is not None else sys.stdout
    lang = lang if lang in _SAID else "nl"
    said = _SAID[lang]
    if not paths:
        print(said["none"], file=err)
        return 1
    all_ok = True
    for name in paths:
        raw = _read(Path(name), said)
        if isinstance(raw, str):
            print(f"{name}: {raw}", file=err)
            all_ok = False
            continue
        result = validate_quiz_bytes(raw, lang)
        if result.errors:
            all_ok = False
            for issue in result.errors:
                # The message names the place the way people count ("vraag 1, antwoord 3");
                # the 0-based technical path would be a second numbering next to it.
                print(f"{name}: {issue.message}", file=err)
            continue
        count = _count(result)
        noun = said["one"] if count == 1 else said["many"]
        print(f"{name}: {said['ok']} ({count} {noun})", file=out)
    return 0 if all_ok else 1
