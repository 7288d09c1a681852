"""The `kenniskring` command as a user runs it: serve (PORT, join URL, QR), check-quiz, workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import FAST_QUIZ
from tests.support.servers import ROOT, free_port


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_console_script_is_installed() -> None:
    script = shutil.which("kenniskring") or str(Path(sys.executable).parent / "kenniskring")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "check-quiz" in result.stdout and "serve" in result.stdout


def test_check_quiz_valid_and_invalid(tmp_path: Path) -> None:
    good = tmp_path / "goed.json"
    good.write_text(json.dumps(FAST_QUIZ), encoding="utf-8")
    ok = _run("check-quiz", str(good), str(ROOT / "quizzes" / "demo-kennisdeling.json"))
    assert ok.returncode == 0, ok.stderr
    assert "in orde (3 vragen)" in ok.stdout and ok.stderr == ""

    broken = json.loads(json.dumps(FAST_QUIZ))
    del broken["questions"][1]["text"]
    broken["questions"][0]["options"][2]["text"] = ""
    bad = tmp_path / "fout.json"
    bad.write_text(json.dumps(broken), encoding="utf-8")
    failed = _run("check-quiz", str(good), str(bad), str(tmp_path / "weg.json"))
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    assert any("vraag 2" in line and "fout.json" in line for line in lines), lines
    assert any("vraag 1, antwoord 3" in line for line in lines), lines
    assert not any("questions[" in line or "options[" in line for line in lines), lines
    assert any("weg.json" in line and "niet gevonden" in line for line in lines), lines


def test_check_quiz_in_english(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(FAST_QUIZ))
    broken["questions"][0]["options"][2]["text"] = ""
    bad = tmp_path / "fout.json"
    bad.write_text(json.dumps(broken), encoding="utf-8")
    good = tmp_path / "goed.json"
    good.write_text(json.dumps(FAST_QUIZ), encoding="utf-8")
    result = _run("check-quiz", "--lang", "en", str(good), str(bad), str(tmp_path / "weg.json"))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any("question 1, answer 3" in line for line in lines), lines
    assert any("weg.json: file not found" in line for line in lines), lines
    assert not any("vraag" in line or "niet gevonden" in line for line in lines), lines
    assert "goed.json: valid (3 questions)" in result.stdout


def test_several_workers_without_redis_are_refused() -> None:
    result = _run("serve", "--workers", "2", "--port", str(free_port()))
    assert result.returncode == 2
    assert "Meerdere workers hebben Redis nodig" in result.stderr


def test_serve_reads_port_from_env_and_prints_join_url_and_qr(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--host",
                "127.0.0.1",
                "--data",
                str(tmp_path / "data"),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PORT": str(port), "KENNISKRING_LOG_LEVEL": "warning"},
        )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError(log.read_text())
        text = log.read_text()
        assert f":{port}/" in text and "/host" in text
        assert "▀" in text or "█" in text  # the QR code drawn in the terminal
        # On the memory backend it says what a restart loses and what the data folder keeps:
        # the quizzes and every history a team keeps.
        assert "na een herstart zijn ze weg" in text and str(tmp_path / "data") in text
        for kept in ("quizzen", "bokaal", "kenniskaart", "scholingsthema"):
            assert kept in text
    finally:
        proc.terminate()
        proc.wait(10)
