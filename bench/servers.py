"""The servers under test as subprocesses on free loopback ports, and /proc readings of them."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .redis_binary import CLUSTER_NEEDS, newest_redis_server, version_of
from .redis_cluster import ClusterProc, find_redis_cli

PACKAGE = __package__ or "bench"  # "bench" in a checkout, "kenniskring_bench" when installed
_HERE = Path(__file__).resolve().parent.parent
# The checkout the bench runs from, if any (then results and git revision come from it); an
# installed bench has none and works in the current directory.
CHECKOUT: Path | None = _HERE if (_HERE / "pyproject.toml").is_file() else None
ROOT = CHECKOUT or Path.cwd()
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_nofile() -> int:
    """Lift this process's open-file limit to the hard limit (thousands of sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- /proc ------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, cpu seconds) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime/stime are fields 14/15 → index 11/12
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _preempted(pid: int) -> int:
    """How often the main thread of `pid` was taken off a CPU while it could run (Linux's
    nonvoluntary context switches): another process needed the core."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("nonvoluntary_ctxt_switches:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (uvicorn --workers spawns the workers as children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                children.setdefault(st[0], []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


@dataclass
class Usage:
    cpu_s: float
    rss_kib: int
    processes: int
    preempted: int = 0

    def plus(self, other: Usage) -> Usage:
        """Two sets of processes together."""
        return Usage(
            self.cpu_s + other.cpu_s,
            self.rss_kib + other.rss_kib,
            self.processes + other.processes,
            self.preempted + other.preempted,
        )


def machine_busy_s() -> float:
    """CPU seconds all processes on this machine have used (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def usage(root: int) -> Usage:
    cpu, rss, n, preempted = 0.0, 0, 0, 0
    for pid in process_tree(root):
        st = _stat(pid)
        if st is None:
            continue
        cpu += st[1]
        rss += _rss_kib(pid)
        preempted += _preempted(pid)
        n += 1
    return Usage(cpu, rss, n, preempted)


def split_cpus(allowed: set[int], server_cpus: int) -> tuple[set[int], set[int]]:
    """`--pin`: (the servers' CPUs, the generator's CPUs) out of `allowed`: the servers get the
    highest `server_cpus` of them, the generator the rest, so neither takes the other's cores.
    Needs at least one CPU left for the generator."""
    cpus = sorted(allowed)
    if server_cpus < 1 or len(cpus) <= server_cpus:
        raise ValueError(
            f"--pin needs more CPUs than the {server_cpus} for the server "
            f"(this process may use {len(cpus)})"
        )
    return set(cpus[-server_cpus:]), set(cpus[:-server_cpus])


def _prepare_child(cpus: frozenset[int] | None = None) -> None:
    """In the child before exec: lift its open-file limit, pin it to `cpus` if given, and have
    Linux send it SIGTERM when the bench process dies, so an interrupted bench leaves no
    servers behind."""
    raise_nofile()
    if cpus:
        os.sched_setaffinity(0, cpus)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# ---- servers ----------------------------------------------------------------------------------


@dataclass
class ServerProc:
    """One server under test: `kind` is "kenniskring", "candidate" (Kenniskring from another
    checkout, `server_root`) or "baseline"."""

    kind: str
    workdir: Path
    workers: int = 1
    redis_url: str | None = None
    max_players: int = 2500
    sizes: dict[str, int] = field(default_factory=dict)
    profile: str | None = None  # "cprofile" / "tracemalloc": run the server under a profiler
    port: int = field(default_factory=free_port)
    server_root: Path | None = None  # run the `server` package of another checkout
    cpus: frozenset[int] | None = None  # `--pin`: the CPUs the server may run on
    extra_args: list[str] = field(default_factory=list)  # more `serve` options
    redis_stats: list[str] = field(default_factory=list)  # Redis nodes to read commandstats of
    # `--affinity`: the workers as separate one-worker servers on their own ports, sharing the
    # data directory and Redis (as machines behind a balancer); a room's sockets go to one port.
    affinity: bool = False
    data: Path | None = None  # the data directory (default: workdir/data-<port>)
    proc: subprocess.Popen[bytes] | None = None
    siblings: list[ServerProc] = field(default_factory=list)  # the other servers of `affinity`

    @property
    def split(self) -> bool:
        """The workers run as separate servers (`affinity`); the baseline never splits."""
        return self.affinity and self.workers > 1 and self.kind != "baseline"

    @property
    def ports(self) -> list[int]:
        """Every port a phone may connect to: one, or one per worker with `affinity`."""
        return [self.port, *(s.port for s in self.siblings)]

    def room_ports(self, rooms: list[str]) -> dict[str, int]:
        """The port each room's sockets go to: the rooms in turn over `ports` (a balancer
        hashing the room code spreads them about as evenly)."""
        ports = self.ports
        return {room: ports[i % len(ports)] for i, room in enumerate(rooms)}

    @property
    def data_dir(self) -> Path:
        """Where the server keeps its files: `data`, or workdir/data-<port>."""
        return self.data or self.workdir / f"data-{self.port}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.kind}-{self.port}.log"

    @property
    def memtrace_prefix(self) -> Path:
        return self.workdir / f"{self.kind}-{self.port}.memtrace"

    @property
    def cprofile_path(self) -> Path:
        return self.workdir / f"{self.kind}-{self.port}.pstats"

    def command(self) -> list[str]:
        python = [sys.executable]
        if self.profile == "cprofile":
            python += ["-m", "cProfile", "-o", str(self.cprofile_path)]
        if self.kind == "baseline":
            return [
                *python,
                "-m",
                f"{PACKAGE}.baseline",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--sizes",
                json.dumps(self.sizes),
            ]
        data = self.data_dir
        module = f"{PACKAGE}.memtrace" if self.profile == "tracemalloc" else "server"
        cmd = [
            *python,
            "-m",
            module,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data",
            str(data),
            "--public-url",
            self.base,
            "--workers",
            str(1 if self.split else self.workers),
            "--max-players",
            str(self.max_players),
        ]
        if self.redis_url:
            cmd += ["--redis-url", self.redis_url]
        return cmd + self.extra_args

    def start(self, timeout: float = 30.0) -> ServerProc:
        self._start(timeout)
        if self.split:
            self.siblings = [
                ServerProc(
                    self.kind,
                    self.workdir,
                    redis_url=self.redis_url,
                    max_players=self.max_players,
                    sizes=self.sizes,
                    server_root=self.server_root,
                    cpus=self.cpus,
                    extra_args=self.extra_args,
                    data=self.data_dir,
                )
                for _ in range(self.workers - 1)
            ]
            try:
                for sibling in self.siblings:
                    sibling._start(timeout)
            except RuntimeError:
                self.stop()
                raise
        return self

    def _start(self, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "KENNISKRING_LOG_LEVEL": "warning",
            # Every generated phone comes from 127.0.0.1: per-address limits would throttle the
            # load itself (docs/PERFORMANCE.md).
            "KENNISKRING_LIMITS": "off",
            "PYTHONUNBUFFERED": "1",
            "KENNISKRING_MEMTRACE": str(self.memtrace_prefix),
        }
        env.pop("REDIS_URL", None)
        cwd = ROOT
        if CHECKOUT is None:
            env.pop("PYTHONPATH", None)
        if self.server_root is not None and self.kind != "baseline":
            # `-m server` is found in the working directory first; bench stays importable.
            cwd = self.server_root
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=functools.partial(_prepare_child, self.cpus),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} not healthy after {timeout}s: {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            tail = self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            tail = ""
        return tail + "".join(s.log_tail(chars) for s in self.siblings)

    def usage(self) -> Usage:
        """The server's processes, with `affinity` all its servers' together."""
        total = usage(self.pid)
        for sibling in self.siblings:
            total = total.plus(sibling.usage())
        return total

    def stop(self) -> None:
        for sibling in self.siblings:
            sibling.stop()
        if self.proc is None or self.proc.poll() is not None:
            return
        # uvicorn re-raises the signal it caught after its graceful shutdown; under cProfile only
        # SIGINT (KeyboardInterrupt) lets the profiler's `finally` write its stats.
        sig = signal.SIGINT if self.profile == "cprofile" else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


# ---- redis ------------------------------------------------------------------------------------


class RedisProc:
    """A throwaway redis-server on a free loopback port (`--redis-url auto`)."""

    def __init__(self, workdir: Path) -> None:
        binary = newest_redis_server()
        if binary is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        self.version = _dotted(version_of(binary))
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--maxclients",
                "10000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_prepare_child,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def stats_urls(self) -> list[str]:
        """Where `INFO commandstats cpu` is read (bench/redisstats.py)."""
        return [self.url]

    def usage(self) -> Usage:
        return usage(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class ClusterRedis(ClusterProc):
    """`--redis-url auto-cluster`: a throwaway 3-master Redis Cluster (bench/redis_cluster.py)."""

    def __init__(self, workdir: Path) -> None:
        binary = newest_redis_server()
        cli = find_redis_cli(binary)
        if binary is None or cli is None:
            raise RuntimeError("redis-server and redis-cli needed (apt-get install redis-server)")
        found = version_of(binary)
        self.version = _dotted(found)
        if found is None or found[:2] < CLUSTER_NEEDS:
            raise RuntimeError(
                f"a Redis Cluster needs redis-server {_dotted(CLUSTER_NEEDS)}+ (sharded pub/sub); "
                f"the newest found is {binary} ({self.version}): apt-get install redis-server"
            )
        super().__init__(workdir, binary, cli, masters=3)
        self.start()

    @property
    def stats_urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def usage(self) -> Usage:
        total = Usage(0.0, 0, 0, 0)
        for node in self.nodes:
            if node.process is not None:
                total = total.plus(usage(node.process.pid))
        return total


def _dotted(version: tuple[int, ...] | None) -> str:
    return ".".join(map(str, version)) if version else "?"


def throwaway_redis(
    arg: str | None, folder: Path
) -> tuple[RedisProc | ClusterRedis | None, str | None]:
    """`--redis-url`: "auto" starts a redis-server, "auto-cluster" a 3-master Redis Cluster;
    anything else is used as it is. Returns (what to stop afterwards, the URL for the server)."""
    if arg == "auto":
        single = RedisProc(folder)
        return single, single.url
    if arg == "auto-cluster":
        cluster = ClusterRedis(folder)
        return cluster, cluster.url
    return None, arg


def git_revision() -> dict[str, Any]:
    """Which server code was measured: HEAD and whether server/ had uncommitted changes."""

    if CHECKOUT is None:
        from server import __version__

        return {"head": "", "server_changes": [], "installed_version": __version__}

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain", "server").splitlines()]
    return {"head": git("rev-parse", "--short", "HEAD").strip(), "server_changes": dirty}


def describe_machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kib / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "nofile": raise_nofile(),
    }
