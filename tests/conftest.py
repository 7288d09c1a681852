"""Shared fixtures: a real server on loopback, quiz files, HTTP helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.redis_cluster import RedisCluster
from tests.support.servers import ROOT, ServerProcess

FAST_QUIZ: dict[str, Any] = {
    "format": 1,
    "id": "test-snel",
    "title": "Testquiz",
    "theme": "Testen",
    "author": "Testteam",
    "language": "nl",
    "questions": [
        {
            "id": "q1",
            "type": "multiple_choice",
            "text": "Wie kun je inschakelen bij schulden?",
            "time_limit": 30,
            "options": [
                {"text": "De schuldhulpverlening van de gemeente", "correct": True},
                {"text": "Niemand"},
                {"text": "De huisarts"},
                {"text": "De deurwaarder"},
            ],
            "toelichting": "Verwijs door naar de gemeentelijke schuldhulpverlening.",
            "learn_more": [{"title": "Geldfit", "url": "https://www.geldfit.nl"}],
            "experts": ["Fatima"],
        },
        {
            "id": "q2",
            "type": "true_false",
            "text": "Een gemeente moet schuldhulp bieden.",
            "time_limit": 30,
            "answer": True,
        },
        {
            "id": "q3",
            "type": "estimate",
            "text": "Hoeveel procent?",
            "time_limit": 30,
            "estimate": {"answer": 50, "min": 0, "max": 100, "unit": "%", "tolerance": 5},
        },
    ],
}


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return ROOT / "quizzes"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real single-worker server (memory backend) for the whole session."""
    server = ServerProcess(tmp_path_factory.mktemp("live")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """One 3-master Redis Cluster on loopback for the whole session (about 3 s to start): the
    contract suite and the multi-worker play test share it, each on its own keys. FAILS (not
    skips) without redis-server and redis-cli."""
    with RedisCluster(masters=3) as cluster:
        yield cluster


_UPLOADED: dict[tuple[str, str], tuple[str, str]] = {}  # (server, body) → (id, edit secret)


def upload(base: str, quiz: dict[str, Any]) -> str:
    """Upload `quiz` to the server at `base`, once: a test that uploads the same quiz again
    (tests share a session server) gets the same id, as an author re-uploading with the edit
    secret would."""
    body = json.dumps(quiz, sort_keys=True)
    known = _UPLOADED.get((base, body))
    if known is not None:
        return known[0]
    response = httpx.post(
        f"{base}/api/quizzes",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    reply = response.json()
    _UPLOADED[(base, body)] = (str(reply["id"]), str(reply["edit_secret"]))
    return str(reply["id"])


def create_room(base: str, quiz_id: str, team: str = "") -> dict[str, Any]:
    response = httpx.post(f"{base}/api/rooms", json={"quiz_id": quiz_id, "team": team})
    assert response.status_code == 201, response.text
    return dict(response.json())
