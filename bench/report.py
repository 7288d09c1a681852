"""Figures of a bench session as Markdown tables, target verdicts and a latency plot."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

LATENCIES = ("question", "ack", "reveal", "scoreboard")


def _ms(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _triple(block: dict[str, Any]) -> str:
    return " / ".join(_ms(block.get(k)) for k in ("p50", "p95", "p99", "max"))


def _ratio(a: Any, b: Any) -> str:
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.2f}×"


def _key(run: dict[str, Any]) -> tuple[int, int, int, str]:
    return (run["phones"], run["rooms"], run["workers"], run.get("backend", ""))


def runs_table(runs: list[dict[str, Any]]) -> str:
    head = (
        "| phones | rooms | server | workers | join s | question ms p50/p95/p99/max "
        "| ack ms p50/p95/p99/max | reveal ms p50/p95/p99/max | own result ms p50/p95/p99/max "
        "| scoreboard ms p50/p95/p99/max "
        "| answers acked/sent | lost | errors | server CPU s | CPU ms/phone "
        "| KiB/idle phone | B/phone/question | frames/phone | other CPU s |\n"
        "|---:|---:|---|---:|---:|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in runs:
        a = r["answers"]
        lost = a["lost"] + a["phantom"] + (a["export_missing"] or 0)
        u = r["server_usage"]
        name = r["server"] if r["server"] == "baseline" else f"{r['server']} ({r['backend']})"
        if r.get("affinity"):
            name += ", room affinity"
        rows.append(
            f"| {r['phones']} | {r['rooms']} | {name} | {r['workers']} | {r['join']['total_s']} "
            f"| {_triple(r['question'])} | {_triple(r['ack'])} | {_triple(r['reveal'])} "
            f"| {_triple(r.get('result', {}))} "
            f"| {_triple(r['scoreboard'])} | {a['acked']}/{a['sent']} | {lost} "
            f"| {r['errors']['count']} | {u['cpu_s_total']:.2f} | {u['cpu_ms_per_phone']} "
            f"| {u['kib_per_idle_phone']} | {r['bytes_per_phone_per_question']} "
            f"| {sum(r['frames_per_phone'].values()):.1f} "
            f"| {r.get('machine', {}).get('other_cpu_s', '–')} |"
        )
    return head + "\n".join(rows) + "\n"


def pairs(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(kenniskring, baseline) runs with the same phones, rooms and repetition."""

    def key(r: dict[str, Any]) -> tuple[int, int, int]:
        return (r["phones"], r["rooms"], r.get("repeat", 1))

    base = {key(r): r for r in runs if r["server"] == "baseline"}
    return [(r, base[key(r)]) for r in runs if r["server"] == "kenniskring" and key(r) in base]


def ratio_table(runs: list[dict[str, Any]]) -> str:
    head = (
        "| phones | rooms | workers | question p99 | question max | ack p99 | reveal p99 "
        "| reveal max | scoreboard p99 | scoreboard max | join | server CPU | KiB/idle phone |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for k, b in pairs(runs):
        ku, bu = k["server_usage"], b["server_usage"]
        rows.append(
            f"| {k['phones']} | {k['rooms']} | {k['workers']} "
            f"| {_ratio(k['question']['p99'], b['question']['p99'])} "
            f"| {_ratio(k['question']['max'], b['question']['max'])} "
            f"| {_ratio(k['ack']['p99'], b['ack']['p99'])} "
            f"| {_ratio(k['reveal']['p99'], b['reveal']['p99'])} "
            f"| {_ratio(k['reveal']['max'], b['reveal']['max'])} "
            f"| {_ratio(k['scoreboard']['p99'], b['scoreboard']['p99'])} "
            f"| {_ratio(k['scoreboard']['max'], b['scoreboard']['max'])} "
            f"| {_ratio(k['join']['total_s'], b['join']['total_s'])} "
            f"| {_ratio(ku['cpu_s_total'], bu['cpu_s_total'])} "
            f"| {_ratio(ku['kib_per_idle_phone'], bu['kib_per_idle_phone'])} |"
        )
    if not rows:
        return "(no Kenniskring/baseline pair in this session)\n"
    return head + "\n".join(rows) + "\n"


def targets(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, judged on the 1-worker, memory, 1-room run with the most phones."""
    candidates = [
        (k, b)
        for k, b in pairs(runs)
        if k["rooms"] == 1 and k["workers"] == 1 and k["backend"] == "memory"
    ]
    if not candidates:
        return []
    top = max(k["phones"] for k, _ in candidates)
    out: list[dict[str, Any]] = []
    for k, b in candidates:
        if k["phones"] == top:
            out += _judge(k, b)
    return out


def _judge(k: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    n = k["phones"]
    out = []

    def judge(name: str, value: str, ok: bool) -> None:
        out.append(
            {
                "phones": n,
                "repeat": k.get("repeat", 1),
                "target": name,
                "measured": value,
                "met": ok,
            }
        )

    def within(block: str, stat: str, factor: float = 1.5) -> tuple[str, bool]:
        kv, bv = k.get(block, {}).get(stat), b.get(block, {}).get(stat)
        if kv is None or bv is None:
            return "missing", False
        return f"{kv:.0f} ms vs {bv:.0f} ms = {kv / max(bv, 1e-9):.2f}×", kv <= factor * bv

    judge("question broadcast p99 ≤ 1.5× baseline", *within("question", "p99"))
    a = k["answers"]
    all_in = (
        a["acked"] == a["sent"]
        and a["lost"] == 0
        and a["phantom"] == 0
        and not (a["export_missing"])
    )
    ack99 = k["ack"]["p99"]
    judge(
        "every answer accepted, ack p99 ≤ 100 ms",
        f"{a['acked']}/{a['sent']} acked, lost {a['lost']}, ack p99 {_ms(ack99)} ms",
        bool(all_in and ack99 is not None and ack99 <= 100),
    )
    judge("reveal after close p99 ≤ 1.5× baseline", *within("reveal", "p99"))
    judge("own result (`me`) after close p99 ≤ 1.5× baseline", *within("result", "p99"))
    judge("scoreboard on every phone (max) ≤ 1.5× baseline", *within("scoreboard", "max"))
    kib = k["server_usage"]["kib_per_idle_phone"]
    judge("≤ 30 KiB server memory per idle phone", f"{kib} KiB", kib <= 30)
    judge(
        "0 lost answers, 0 errors",
        f"lost {a['lost']}, errors {k['errors']['count']}",
        a["lost"] == 0 and k["errors"]["count"] == 0,
    )
    return out


def targets_table(runs: list[dict[str, Any]]) -> str:
    rows = targets(runs)
    if not rows:
        return "(no 1-room, 1-worker Kenniskring/baseline pair in this session)\n"
    out = "| phones | run | target | measured | met |\n|---:|---:|---|---|---|\n"
    for r in rows:
        met = "yes" if r["met"] else "NO"
        out += f"| {r['phones']} | {r['repeat']} | {r['target']} | {r['measured']} | {met} |\n"
    return out


def pooled_table(runs: list[dict[str, Any]]) -> str:
    """Per phone count: the median of the per-question p99s over every question of every run.
    One disturbed question (the VM, the generator) moves a run's p99 a lot; this moves little."""
    rows = []
    for n in sorted({k["phones"] for k, _ in pairs(runs)}):
        same = [(k, b) for k, b in pairs(runs) if k["phones"] == n and k["rooms"] == 1]
        if not same:
            continue
        cells = []
        for block in ("question", "reveal", "result", "scoreboard"):
            kv = _median([v for k, _ in same for v in k["p99_by_question"].get(block, [])])
            bv = _median([v for _, b in same for v in b["p99_by_question"].get(block, [])])
            cells.append(f"{_ms(kv)} vs {_ms(bv)} = {_ratio(kv, bv)}")
        count = sum(len(k["p99_by_question"]["question"]) for k, _ in same)
        rows.append(f"| {n} | {count} | " + " | ".join(cells) + " |")
    if not rows:
        return "(no 1-room Kenniskring/baseline pair in this session)\n"
    return (
        "| phones | questions | question p99 | reveal p99 | own result p99 | scoreboard p99 |\n"
        "|---:|---:|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def _median(values: list[Any]) -> float | None:
    clean = sorted(v for v in values if v is not None)
    if not clean:
        return None
    mid = len(clean) // 2
    return float(clean[mid]) if len(clean) % 2 else (clean[mid - 1] + clean[mid]) / 2


def markdown(session: dict[str, Any]) -> str:
    m = session["machine"]
    rev = session.get("revision", {})
    runs = session["runs"]
    lines = [
        "# Kenniskring bench",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['mem_gib']} GiB, Python "
        f"{m['python']}; generator on the same machine. Command: `{session['command']}`",
        "",
        f"Server code: {rev.get('head', '?')}"
        + (
            f" + uncommitted changes in {', '.join(rev['server_changes'])}"
            if rev.get("server_changes")
            else ""
        ),
        "",
        "Latencies in ms: question = host's control send → question view on the phone; "
        "ack = answer sent → ack; reveal = host's close → reveal view; own result = host's close "
        "→ the phone's `me` after that view (its verdict and points); scoreboard = host's "
        "scoreboard → scoreboard view. Percentiles are over all phones (the max is the last "
        "phone). `other CPU s`: CPU used during the run by everything except the server and "
        "the generator (other work on the machine, py-spy, redis-server); large values mean "
        "the figures are disturbed.",
        "",
        "## Runs",
        "",
        runs_table(runs),
        "## Kenniskring ÷ baseline (same run, same generator, same frame sizes)",
        "",
        ratio_table(runs),
        "## Targets",
        "",
        targets_table(runs),
        "## All questions of all runs (median of the per-question p99, ms; Kenniskring vs "
        "baseline)",
        "",
        pooled_table(runs),
    ]
    errs = [
        (r["server"], r["phones"], r["errors"]["samples"]) for r in runs if r["errors"]["count"]
    ]
    if errs:
        lines += ["## Errors", ""]
        for server, n, samples in errs:
            lines.append(f"- {server} @ {n} phones: " + "; ".join(samples[:8]))
        lines.append("")
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], path: Path, dpi: int = 110) -> str:
    """latency percentiles vs phones, one panel per latency; needs the `[bench]` extra."""
    if not runs:
        return "no runs: no plot"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install 'kenniskring[bench]'): no plot"
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    series: dict[tuple[str, int, int], dict[int, list[dict[str, Any]]]] = {}
    for r in runs:
        key = (r["server"], r["rooms"], r["workers"])
        series.setdefault(key, {}).setdefault(r["phones"], []).append(r)
    colors = {"p50": "tab:blue", "p99": "tab:orange", "max": "tab:red"}
    for ax, what in zip(axes.flat, LATENCIES, strict=False):
        for (server, rooms, workers), by_n in sorted(series.items()):
            xs = sorted(by_n)
            label = server if rooms == 1 and workers == 1 else f"{server} {rooms}r/{workers}w"
            style = "-" if server == "kenniskring" else "--"
            for stat, color in colors.items():
                ys = []
                for n in xs:  # the median over repeated runs
                    values = [r[what][stat] for r in by_n[n] if r[what][stat] is not None]
                    ys.append(statistics.median(values) if values else float("nan"))
                ax.plot(xs, ys, style, color=color, marker="o", label=f"{label} {stat}")
        ax.set_title(f"{what} latency")
        ax.set_xlabel("phones")
        ax.set_ylabel("ms")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return f"plot: {path}"
