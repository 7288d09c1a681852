"""`kenniskring serve` under tracemalloc: where the memory of idle phones goes.

    python -m bench.memtrace serve --port 8000 ...     (same arguments as `python -m server`)

Each SIGUSR1 takes a snapshot; from the second one on it writes the growth since the first,
by source line and by file, to `$KENNISKRING_MEMTRACE.<n>.txt`. The bench sends the signals
before the phones join and once they are idle (`--profile tracemalloc`).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

ENV = "KENNISKRING_MEMTRACE"
# Objects one per socket: counted in every snapshot, so one that outlives its socket shows.
CENSUS = ("Client", "WebSocketsSansIOProtocol", "ServerProtocol", "WebSocket", "Task")


def _report(first: tracemalloc.Snapshot, now: tracemalloc.Snapshot, top: int = 40) -> str:
    lines = []
    for key in ("lineno", "filename"):
        stats = now.compare_to(first, key)
        grown = sum(s.size_diff for s in stats)
        count = sum(s.count_diff for s in stats)
        lines.append(f"growth by {key}: {grown / 1024:.0f} KiB in {count} blocks")
        for s in stats[: top if key == "lineno" else 20]:
            where = str(s.traceback[0]) if s.traceback else "?"
            for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
                if marker in where:
                    where = where.split(marker, 1)[1]
            lines.append(f"  {s.size_diff / 1024:9.1f} KiB  {s.count_diff:7d} blocks  {where}")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    prefix = os.environ.get(ENV, "memtrace")
    tracemalloc.start(1)
    snapshots: list[tracemalloc.Snapshot] = []
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__),)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # What is still referenced, not garbage the cyclic collector has not reached yet.
        gc.set_debug(gc.DEBUG_SAVEALL)
        collected = gc.collect()
        cycles = Counter(type(o).__name__ for o in gc.garbage).most_common(25)
        gc.garbage.clear()
        gc.set_debug(0)
        alive = Counter(type(o).__name__ for o in gc.get_objects())
        census = ", ".join(f"{alive[name]} {name}" for name in CENSUS)
        snap = tracemalloc.take_snapshot().filter_traces(ignore)
        snapshots.append(snap)
        n = len(snapshots)
        path = Path(f"{prefix}.{n}.txt")
        text = "baseline snapshot\n" if n == 1 else _report(snapshots[0], snap)
        garbage = ", ".join(f"{n} {name}" for name, n in cycles)
        path.write_text(
            f"gc.collect() freed {collected} objects; alive: {census}\n"
            f"in reference cycles (freed only by the collector): {garbage}\n" + text
        )

    signal.signal(signal.SIGUSR1, on_signal)
    from server.cli import main as cli

    return int(cli(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
