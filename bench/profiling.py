"""Sample the server under load with py-spy and say where its time goes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def find_py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("py-spy")


class PySpy:
    """`py-spy record --format raw` on a running pid (and its worker children) until stopped."""

    def __init__(self, pid: int, out: Path, rate: int = 500, subprocesses: bool = True) -> None:
        binary = find_py_spy()
        if binary is None:
            raise RuntimeError("py-spy not found: pip install py-spy")
        self.out = out
        cmd = [
            binary,
            "record",
            "-p",
            str(pid),
            "-f",
            "raw",
            "-o",
            str(out),
            "-r",
            str(rate),
            "-F",
            "--nonblocking",
        ]
        if subprocesses:
            cmd.append("--subprocesses")
        self.log = out.with_suffix(".log").open("wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


# Frames on (nearly) every stack: process start-up, uvicorn's runner, the event loop.
BOILERPLATE = (
    "<frozen runpy>",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "uvicorn/_subprocess.py",
    "uvicorn/supervisors/",
    "multiprocessing/",
    "asyncio/runners.py",
    "server/__main__.py",
    "server/cli.py",
    "bench/memtrace.py",
    "(<string>",
    "spawn_main(",
)


def _frames(stack: str) -> list[str]:
    frames = []
    for raw in stack.split(";"):
        name = raw.strip()
        if name.startswith("process ") or name.startswith("thread "):
            continue
        # "func (path/to/file.py:12)" → keep the module-ish tail of the path
        if " (" in name and name.endswith(")"):
            func, where = name[:-1].split(" (", 1)
            where = where.replace("/tmp/v/lib/python3.11/site-packages/", "")
            for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
                if marker in where:
                    where = where.split(marker, 1)[1]
            name = f"{func} ({where})"
        frames.append(name)
    return frames


def summarize(raws: list[Path], top: int = 25) -> str:
    """Self and inclusive sample shares per function, from py-spy's collapsed stacks."""
    self_counts: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    files: Counter[str] = Counter()
    total = 0
    lines: list[str] = []
    for raw in raws:
        with contextlib.suppress(OSError):
            lines += raw.read_text(errors="replace").splitlines()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = _frames(stack)
        if not frames:
            continue
        total += n
        self_counts[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
        for f in {f.rsplit("(", 1)[-1].split(":")[0] for f in frames}:
            files[f] += n
    if not total:
        return f"(no samples in {', '.join(map(str, raws))})\n"

    def table(counter: Counter[str], title: str) -> str:
        out = f"{title}\n"
        for name, n in counter.most_common(top):
            out += f"  {100 * n / total:5.1f}%  {name}\n"
        return out

    for counter in (incl, files):
        for name in list(counter):
            if any(b in name for b in BOILERPLATE) or name.startswith("tracker_fd"):
                del counter[name]
    project = Counter({k: v for k, v in incl.items() if "(server/" in k})
    return (
        f"{total} samples (busy samples only; py-spy skips idle threads)\n\n"
        + table(self_counts, "self time (the function itself was running):")
        + "\n"
        + table(incl, "inclusive time (on the stack; event-loop/startup frames left out):")
        + "\n"
        + table(project, "inclusive time, Kenniskring's own code (server/):")
        + "\n"
        + table(files, "by file (inclusive):")
    )
