"""Figures of a bench session as Markdown tables, target verdicts and a latency plot."""

from __future__ import annotations

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
        "| ack ms p50/p95/p99/max | reveal ms p50/p95/p99/max | scoreboard ms p50/p95/p99/max "
        "| answers acked/sent | lost | errors | server CPU s | CPU ms/phone "
        "| KiB/idle phone | B/phone/question |\n"
        "|---:|---:|---|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in runs:
        a = r["answers"]
        lost = a["lost"] + a["phantom"] + (a["export_missing"] or 0)
        u = r["server_usage"]
        name = r["server"] if r["server"] == "baseline" else f"{r['server']} ({r['backend']})"
        rows.append(
            f"| {r['phones']} | {r['rooms']} | {name} | {r['workers']} | {r['join']['total_s']} "
            f"| {_triple(r['question'])} | {_triple(r['ack'])} | {_triple(r['reveal'])} "
            f"| {_triple(r['scoreboard'])} | {a['acked']}/{a['sent']} | {lost} "
            f"| {r['errors']['count']} | {u['cpu_s_total']:.2f} | {u['cpu_ms_per_phone']} "
            f"| {u['kib_per_idle_phone']} | {r['bytes_per_phone_per_question']} |"
        )
    return head + "\n".join(rows) + "\n"


def pairs(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(kenniskring, baseline) runs with the same phones and rooms."""
    base = {(r["phones"], r["rooms"]): r for r in runs if r["server"] == "baseline"}
    return [
        (r, base[(r["phones"], r["rooms"])])
        for r in runs
        if r["server"] == "kenniskring" and (r["phones"], r["rooms"]) in base
    ]


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
        (k, b) for k, b in pairs(runs)
        if k["rooms"] == 1 and k["workers"] == 1 and k["backend"] == "memory"
    ]
    if not candidates:
        return []
    k, b = max(candidates, key=lambda kb: kb[0]["phones"])
    n = k["phones"]
    out = []

    def judge(name: str, value: str, ok: bool) -> None:
        out.append({"phones": n, "target": name, "measured": value, "met": ok})

    def within(block: str, stat: str, factor: float = 1.5) -> tuple[str, bool]:
        kv, bv = k[block][stat], b[block][stat]
        if kv is None or bv is None:
            return "missing", False
        return f"{kv:.0f} ms vs {bv:.0f} ms = {kv / max(bv, 1e-9):.2f}×", kv <= factor * bv

    judge("question broadcast p99 ≤ 1.5× baseline", *within("question", "p99"))
    a = k["answers"]
    all_in = a["acked"] == a["sent"] and a["lost"] == 0 and a["phantom"] == 0 and not (
        a["export_missing"])
    ack99 = k["ack"]["p99"]
    judge(
        "every answer accepted, ack p99 ≤ 100 ms",
        f"{a['acked']}/{a['sent']} acked, lost {a['lost']}, ack p99 {_ms(ack99)} ms",
        bool(all_in and ack99 is not None and ack99 <= 100),
    )
    judge("reveal after close p99 ≤ 1.5× baseline", *within("reveal", "p99"))
    judge("scoreboard on every phone (max) ≤ 1.5× baseline", *within("scoreboard", "max"))
    kib = k["server_usage"]["kib_per_idle_phone"]
    judge("≤ 30 KiB server memory per idle phone", f"{kib} KiB", kib <= 30)
    judge("0 lost answers, 0 errors", f"lost {a['lost']}, errors {k['errors']['count']}",
          a["lost"] == 0 and k["errors"]["count"] == 0)
    return out


def targets_table(runs: list[dict[str, Any]]) -> str:
    rows = targets(runs)
    if not rows:
        return "(no 1-room, 1-worker Kenniskring/baseline pair in this session)\n"
    out = "| phones | target | measured | met |\n|---:|---|---|---|\n"
    for r in rows:
        out += f"| {r['phones']} | {r['target']} | {r['measured']} | {'yes' if r['met'] else 'NO'} |\n"
    return out


def markdown(session: dict[str, Any]) -> str:
    m = session["machine"]
    runs = session["runs"]
    lines = [
        "# Kenniskring bench",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['mem_gib']} GiB, Python "
        f"{m['python']}; generator on the same machine. Command: `{session['command']}`",
        "",
        "Latencies in ms: question = host's control send → question view on the phone; "
        "ack = answer sent → ack; reveal = host's close → reveal view; scoreboard = host's "
        "scoreboard → scoreboard view. Percentiles are over all phones (the max is the last "
        "phone).",
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
    ]
    errs = [(r["server"], r["phones"], r["errors"]["samples"]) for r in runs if r["errors"]["count"]]
    if errs:
        lines += ["## Errors", ""]
        for server, n, samples in errs:
            lines.append(f"- {server} @ {n} phones: " + "; ".join(samples[:8]))
        lines.append("")
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], path: Path) -> str:
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
    styles = {"kenniskring": "-", "baseline": "--"}
    for ax, what in zip(axes.flat, LATENCIES, strict=False):
        for server in ("kenniskring", "baseline"):
            mine = sorted(
                (r for r in runs if r["server"] == server and r["rooms"] == 1),
                key=lambda r: r["phones"],
            )
            if not mine:
                continue
            xs = [r["phones"] for r in mine]
            for stat, color in (("p50", "tab:blue"), ("p99", "tab:orange"), ("max", "tab:red")):
                ys = [r[what][stat] if r[what][stat] is not None else float("nan") for r in mine]
                ax.plot(xs, ys, styles[server], color=color, marker="o",
                        label=f"{server} {stat}")
        ax.set_title(f"{what} latency (1 room)")
        ax.set_xlabel("phones")
        ax.set_ylabel("ms")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot: {path}"
