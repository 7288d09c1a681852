"""Kenniskring installed the way users install it: the wheel, in a fresh venv, outside the checkout.

The wheel is built once per test run from a clean copy of the source tree and installed (with its
dependencies from the package index) into a new venv in a temporary directory; every command runs
there with that directory as its working directory and no PYTHONPATH, so nothing can come from the
checkout. The server is started with the Dockerfile's CMD and ENV and with compose.yaml's app
command and environment, so the container files say what the tests run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import msgpack
import pytest
import yaml
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.web.i18n import SERVER_ONLY, host_only
from tests.support.redis_server import RedisServer, require_redis_server
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# What a clean `git clone` holds, without the local leftovers that would slip into a build.
NOT_SOURCE = (
    ".git",
    ".venv",
    "build",
    "dist",
    "data",
    "test-artifacts",
    "results",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
)


@dataclass
class Installed:
    bin: Path
    home: Path  # an empty working directory, not the checkout

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV", "REDIS_URL", "PORT", "HOST")
            and not k.startswith("KENNISKRING_")
        }
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return {**env, **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.home,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "kenniskring"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("kenniskring-*.whl")
    return found


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("user")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    home = base / "home"
    home.mkdir()
    return Installed(venv / "bin", home)


def test_the_wheel_carries_what_the_server_reads_and_no_stray_packages(wheel: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    top = {
        name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")
    }
    assert top == {"server", "kenniskring_bench"}, top
    shipped = {name for name in names if name.startswith("server/")}
    for part in (
        "js/phone.js",
        "js/host.js",
        "js/screen.js",
        "js/werkvormen/quiz-phone.js",
        "js/werkvormen/circle-phone.js",
        "css/app.css",
        "i18n/nl.json",
        "i18n/en.json",
        "img/icon.svg",
        "vendor/msgpack/index.mjs",
        "vendor/msgpack/LICENSE",
    ):
        assert f"server/client_static/{part}" in shipped, part
    examples = sorted(p.name for p in (ROOT / "quizzes").glob("*.json"))
    assert (
        sorted(
            n.rsplit("/", 1)[1]
            for n in shipped
            if n.startswith("server/example_quizzes/") and n.endswith(".json")
        )
        == examples
    )
    templates = sorted(p.name for p in (ROOT / "server" / "templates").glob("*.html"))
    assert (
        sorted(n.rsplit("/", 1)[1] for n in shipped if n.startswith("server/templates/"))
        == templates
    )


def test_version_and_check_quiz_from_the_installed_package(installed: Installed) -> None:
    version = installed.run("kenniskring", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"kenniskring {VERSION}"

    where = installed.run(
        "python", "-c", "from server import resources; print(resources.examples_dir())"
    )
    examples = Path(where.stdout.strip())
    assert examples.is_dir() and "site-packages" in examples.parts and ROOT not in examples.parents
    shipped = sorted(p for p in examples.glob("*.json") if p.name != "schema.json")
    assert {p.name for p in shipped} == {
        p.name for p in (ROOT / "quizzes").glob("*.json") if p.name != "schema.json"
    }
    ok = installed.run("kenniskring", "check-quiz", *map(str, shipped))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("in orde") == len(shipped)

    bad = installed.home / "mijn-quiz.json"
    quiz = json.loads(shipped[0].read_text(encoding="utf-8"))
    del quiz["questions"][1]["text"]
    bad.write_text(json.dumps(quiz), encoding="utf-8")
    not_json = installed.home / "kapot.json"
    not_json.write_text("{ dit is geen json", encoding="utf-8")
    failed = installed.run("kenniskring", "check-quiz", str(bad), str(not_json))
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr and "Error" not in failed.stderr, failed.stderr
    assert "vraag 2" in failed.stderr and "mijn-quiz.json" in failed.stderr, failed.stderr
    assert "kapot.json" in failed.stderr, failed.stderr


# ---- serving as the container and compose do ---------------------------------------------------


def dockerfile() -> tuple[dict[str, str], list[str], list[str]]:
    """ENV, CMD and the HEALTHCHECK's command of the final stage of the Dockerfile."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final = text.rsplit("\nFROM ", 1)[1]
    env: dict[str, str] = {}
    cmd: list[str] = []
    health: list[str] = []
    for line in final.splitlines():
        keyword, _, rest = line.strip().partition(" ")
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(rest))
        elif keyword == "CMD":
            cmd = json.loads(rest)
        elif keyword == "HEALTHCHECK":
            health = json.loads(rest.split(" CMD ", 1)[1])
    return env, cmd, health


def compose_app() -> tuple[dict[str, Any], dict[str, Any]]:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return services["app"], services["redis"]


class Serving:
    def __init__(self, installed: Installed, cmd: list[str], env: dict[str, str]) -> None:
        self.port = int(env["PORT"])
        self.log = installed.home / f"serve-{self.port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(installed.bin / cmd[0]), *cmd[1:]],
                cwd=installed.home,
                env=installed.env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.text()
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"not healthy: {self.text()}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> float:
        """SIGTERM, as `docker stop` and systemd send it; the seconds it took to exit."""
        start = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
            raise AssertionError(
                f"still running 20 s after SIGTERM: {self.text()[-2000:]}"
            ) from None
        return time.monotonic() - start


@pytest.fixture
def serving(installed: Installed, tmp_path: Path) -> Iterator[list[Serving]]:
    started: list[Serving] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(5)


STATIC_REF = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")
# A module specifier after `from`, `import` or `import(`: a path ("./x.js", "../vendor/y.mjs"),
# so a string such as `origin === "import"` is not taken for one.
JS_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{0,2}/[^"']+)["']""")


def fetch_page_and_its_files(http: httpx.Client, path: str, seen: set[str]) -> str:
    page = http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
    queue = STATIC_REF.findall(page.text)
    while queue:
        url = queue.pop()
        if urlsplit(url).path in seen:
            continue
        seen.add(urlsplit(url).path)
        response = http.get(url)
        assert response.status_code == 200, (path, url)
        if urlsplit(url).path.endswith((".js", ".mjs")):
            queue += [urljoin(url, ref) for ref in JS_IMPORT.findall(response.text)]
    return page.text


def test_serve_with_the_dockerfile_command_serves_every_page_and_file(
    installed: Installed, serving: list[Serving], tmp_path: Path
) -> None:
    env, cmd, health = dockerfile()
    assert cmd[:2] == ["kenniskring", "serve"] and env["HOST"] == "0.0.0.0"
    assert {"PORT", "KENNISKRING_DATA"} <= env.keys()
    # The container's environment, with loopback, a free port and a data folder of this test.
    data = tmp_path / "data"
    env |= {"HOST": "127.0.0.1", "PORT": str(free_port()), "KENNISKRING_DATA": str(data)}
    server = Serving(installed, cmd, env)
    serving.append(server)

    seen: set[str] = set()
    with httpx.Client(base_url=server.base, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        pages = {
            path: fetch_page_and_its_files(http, path, seen)
            for path in ("/", "/host", "/quizzes", "/bokaal", "/?lang=en")
        }
        for lang, path in (("nl", "/"), ("en", "/?lang=en"), ("nl", "/host")):
            embedded = re.search(
                r'<script type="application/json" id="i18n">(.*?)</script>', pages[path], re.S
            )
            assert embedded is not None
            catalogue = json.loads(embedded.group(1))
            expected = json.loads((ROOT / "client_static" / "i18n" / f"{lang}.json").read_text())
            assert http.get(f"/static/i18n/{lang}.json").json() == expected
            # no page carries the texts the server writes into pages without a script
            expected = {k: v for k, v in expected.items() if not k.startswith(SERVER_ONLY)}
            if path != "/host":  # the phone page leaves the facilitator's texts out
                left_out = expected.keys() - catalogue.keys()
                assert left_out and all(host_only(key) for key in left_out), left_out
                expected = {k: v for k, v in expected.items() if not host_only(k)}
            assert catalogue == expected
        # the pages without a script (templates/signpost.html) ship in the wheel too
        signposts = {path: http.get(path) for path in ("/screen?lang=nl", "/geen-pagina")}
        assert signposts["/screen?lang=nl"].status_code == 200
        assert "Scherm voor de beamer" in signposts["/screen?lang=nl"].text
        assert signposts["/geen-pagina"].status_code == 404
        assert "text/html" in signposts["/geen-pagina"].headers["content-type"]
        quizzes = http.get("/api/quizzes").json()
        template = http.get("/api/quiz-template")
        assert template.status_code == 200 and template.json()["questions"], template.text[:200]
    modules = {p for p in seen if p.endswith((".js", ".mjs"))}
    assert {"/static/js/phone.js", "/static/js/host.js", "/static/js/connection.js"} <= modules
    assert any(p.startswith("/static/vendor/msgpack/") for p in modules), modules
    assert any(p.endswith(".css") for p in seen)
    assert len(modules) > 10  # the whole graph: pages, shared modules and the vendored msgpack
    examples = {
        json.loads(p.read_text(encoding="utf-8"))["id"]
        for p in (ROOT / "quizzes").glob("*.json")
        if p.name != "schema.json" and not p.name.startswith("_")  # _: the example file
    }
    assert {q["id"] for q in quizzes if q["builtin"]} == examples

    # The container's HEALTHCHECK, run as Docker would run it inside the container.
    check = subprocess.run(
        [str(installed.bin / health[0]), *health[1:]],
        cwd=installed.home,
        env=installed.env(PORT=env["PORT"]),
        capture_output=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr

    # A terminal that stays useful: the banner says where data lives; no line per request.
    out = server.text()
    assert str(data.resolve()) in out
    assert "na een herstart zijn ze weg" in out and "lost on restart" in out
    assert "GET /" not in out, out[-2000:]

    took = server.terminate()
    assert server.proc.returncode == 0, server.text()[-2000:]
    assert "Traceback" not in server.text()
    assert took < 10, took


def test_access_log_only_when_asked(
    installed: Installed, serving: list[Serving], tmp_path: Path
) -> None:
    env, cmd, _ = dockerfile()
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "KENNISKRING_DATA": str(tmp_path),
        "KENNISKRING_ACCESS_LOG": "1",
    }
    server = Serving(installed, cmd, env)
    serving.append(server)
    httpx.get(f"{server.base}/host", timeout=10)
    server.terminate()
    assert re.search(r'"GET /host HTTP/1\.1" 200', server.text()), server.text()[-2000:]


def test_compose_app_on_redis_two_workers_stops_cleanly_and_keeps_its_rooms(
    installed: Installed, serving: list[Serving], tmp_path: Path
) -> None:
    app, redis_service = compose_app()
    assert redis_service["image"].split(":")[1].startswith("7")
    assert redis_service["command"][redis_service["command"].index("--appendonly") + 1] == "yes"
    assert any(v.split(":")[1] == "/data" for v in redis_service["volumes"])
    assert app["command"][:2] == ["kenniskring", "serve"]
    assert app["command"][app["command"].index("--workers") + 1] == "2"
    assert app["environment"]["REDIS_URL"].startswith("redis://")

    docker_env, _, _ = dockerfile()
    with RedisServer(require_redis_server()) as redis:
        env = {**docker_env, **{k: str(v) for k, v in app["environment"].items()}}
        env |= {
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "KENNISKRING_DATA": str(tmp_path),
            "REDIS_URL": redis.url,
            "KENNISKRING_PUBLIC_URL": "http://127.0.0.1",
        }
        first = Serving(installed, app["command"], env)
        serving.append(first)
        health = httpx.get(f"{first.base}/healthz", timeout=10).json()
        assert health["backend"] == "redis"
        room = httpx.post(
            f"{first.base}/api/rooms", json={"quiz_id": "demo-kennisdeling"}, timeout=10
        )
        assert room.status_code == 201, room.text
        code = room.json()["code"]
        with connect(first.ws_url) as phone:
            hello = {"type": "hello", "role": "phone", "room": code, "name": "Anna"}
            phone.send(msgpack.packb(hello))
            assert msgpack.unpackb(phone.recv(timeout=10))["type"] == "welcome"

            took = first.terminate()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    phone.recv(timeout=10)
        # The phone is told the server restarts (and reconnects to another worker or the new one).
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert first.proc.returncode == 0 and "Traceback" not in first.text(), first.text()[-3000:]
        assert took < 15, took

        second = Serving(installed, app["command"], env)
        serving.append(second)
        again = httpx.get(f"{second.base}/api/rooms/{code}", timeout=10)
        assert again.status_code == 200 and again.json()["phase"] == "lobby", again.text
        second.terminate()


def test_bench_needs_its_extra_and_runs_from_the_installed_wheel(
    installed: Installed, wheel: Path, tmp_path: Path
) -> None:
    """Runs last in this file: it adds the [bench] extra to the shared venv."""
    without = installed.run("kenniskring", "bench", "--help")
    if without.returncode == 0:  # a dependency of the server already brought everything
        pytest.fail("the [bench] extra adds nothing the base install lacks: drop the check")
    assert without.returncode == 2 and "Traceback" not in without.stderr, without.stderr
    assert "pip install 'kenniskring[bench]'" in without.stderr

    extra = installed.run(
        "python", "-m", "pip", "install", "-q", f"kenniskring[bench] @ {wheel.as_uri()}"
    )
    assert extra.returncode == 0, extra.stderr
    helped = installed.run("kenniskring", "bench", "--help")
    assert helped.returncode == 0 and "--phones" in helped.stdout, helped.stderr

    out = tmp_path / "bench"
    run = installed.run(
        "kenniskring", "bench", "--phones", "20", "--questions", "1", "--out", str(out)
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert "Traceback" not in run.stderr
    assert results["revision"]["installed_version"] == VERSION and results["failures"] == []
    assert [(r["server"], r["phones"]) for r in results["runs"]] == [
        ("kenniskring", 20),
        ("baseline", 20),
    ]
    answers = results["runs"][0]["answers"]
    assert answers["sent"] == answers["acked"] > 0 and answers["lost"] == 0
