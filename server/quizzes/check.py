"""Command-line check of quiz files (``kenniskring check-quiz FILE…``).

Every error is printed to ``err`` as ``"<file>: <message>"``, the message naming the place
as people count (``vraag 1, antwoord 3``: from 1); a valid file gives
``"<file>: in orde (N vragen)"`` on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from server.quizzes.validate import MAX_QUIZ_BYTES, ValidationResult, validate_quiz_bytes


def _read(path: Path) -> bytes | str:
    """The file's bytes (at most one byte over the limit), or a Dutch error message."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_QUIZ_BYTES + 1)
    except FileNotFoundError:
        return "bestand niet gevonden"
    except IsADirectoryError:
        return "dit is een map, geen bestand"
    except PermissionError:
        return "geen toestemming om het bestand te lezen"
    except OSError as exc:
        return f"het bestand kan niet worden gelezen ({exc.strerror or 'onbekende fout'})"


def _count(result: ValidationResult) -> int:
    questions = result.quiz.get("questions", []) if result.quiz else []
    return len(questions) if isinstance(questions, list) else 0


def check_files(paths: list[str], err: TextIO, out: TextIO | None = None) -> int:
    """Validate quiz files; print Dutch errors to ``err``, successes to ``out`` (stdout).

    Returns 0 when every file is a valid quiz, 1 otherwise (also for an empty list).
    """
    out = out if out is not None else sys.stdout
    if not paths:
        print("geen bestanden opgegeven", file=err)
        return 1
    all_ok = True
    for name in paths:
        raw = _read(Path(name))
        if isinstance(raw, str):
            print(f"{name}: {raw}", file=err)
            all_ok = False
            continue
        result = validate_quiz_bytes(raw)
        if result.errors:
            all_ok = False
            for issue in result.errors:
                # The message names the place the way people count ("vraag 1, antwoord 3");
                # the 0-based technical path would be a second numbering next to it.
                print(f"{name}: {issue.message}", file=err)
            continue
        count = _count(result)
        print(f"{name}: in orde ({count} {'vraag' if count == 1 else 'vragen'})", file=out)
    return 0 if all_ok else 1
