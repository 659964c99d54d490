#!/usr/bin/python3
"""Writes docs/benchmarks.md and its plots from what bench/peers/run measured.

Input: results.jsonl (one line a run: system, mode, workload, round and the result
object of WORKLOADS.md, or an error), meta.txt (date, machine, versions) and settings.txt
(how each system was started). The aggregation and the tables are plain functions
(tested by report_test.py); the plots need Debian's python3-matplotlib, so run this with
/usr/bin/python3.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys

SYSTEM_NAMES = {
    "cmdq": "cmdq serve (HTTP)",
    "redis": "Redis Streams",
    "nats": "NATS JetStream",
    "postgres": "PostgreSQL SKIP LOCKED",
    "rabbitmq": "RabbitMQ",
    "beanstalkd": "beanstalkd",
}
MODES = ("D0", "D1")
# (column title, workload, how to read the value from a result object)
METRICS = {
    "sat": ("W1.sat", lambda r: r["throughput_per_s"]),
    "rate": ("W1.10k", lambda r: r["throughput_per_s"]),
    "p50": ("W1.10k", lambda r: r["latency_us"]["p50"]),
    "p99": ("W1.10k", lambda r: r["latency_us"]["p99"]),
    "p999": ("W1.10k", lambda r: r["latency_us"]["p999"]),
    "max": ("W1.10k", lambda r: r["latency_us"]["max"]),
    "sat_p99": ("W1.sat", lambda r: r["latency_us"]["p99"]),
}


def read_results(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Stat:
    """Median and range of one figure over the rounds."""

    def __init__(self, values):
        self.values = sorted(values)
        self.median = statistics.median(values) if values else None
        self.min = self.values[0] if values else None
        self.max = self.values[-1] if values else None


def unfinished_of(row, rate_seconds):
    """Commands of the run not done: the driver counts them; `cmdq bench` reports W1.10k's
    offered rate, so what it never sent or finished is offered - done."""
    result = row["result"]
    extra = result.get("extra", {})
    if "unfinished" in extra:
        return extra["unfinished"]
    rate = result.get("params", {}).get("offered_per_s")
    if row["workload"] != "W1.10k" or not rate or not rate_seconds:
        return extra.get("lost", 0)
    return max(0, round(rate * rate_seconds) - result.get("commands", 0))


def rate_seconds_of(meta):
    """W1.10k's offered seconds from the run's meta.txt ("W1.10k 5 s at 10,000/s")."""
    match = re.search(r"W1\.10k (\d+(?:\.\d+)?) s at", meta or "")
    return float(match.group(1)) if match else None


def aggregate(rows, rate_seconds=None):
    """{(system, mode): {metric: Stat}}, {(system, mode, workload): [errors]} and
    {(system, mode, workload): [commands not done per run]}."""
    figures, errors, unfinished = {}, {}, {}
    for row in rows:
        key = (row["system"], row["mode"])
        if "error" in row:
            errors.setdefault(key + (row["workload"],), []).append(row["error"])
            continue
        result = row["result"]
        left = unfinished_of(row, rate_seconds)
        if left:
            unfinished.setdefault(key + (row["workload"],), []).append(left)
        for metric, (workload, read) in METRICS.items():
            if row["workload"] != workload:
                continue
            try:
                value = read(result)
            except KeyError:
                continue
            figures.setdefault(key, {}).setdefault(metric, []).append(value)
    stats = {key: {m: Stat(v) for m, v in metrics.items()} for key, metrics in figures.items()}
    return stats, errors, unfinished


def systems_in(rows):
    seen = []
    for row in rows:
        if row["system"] not in seen:
            seen.append(row["system"])
    return seen


def fmt_rate(value):
    return "–" if value is None else f"{value:,.0f}"


def fmt_ms(us):
    if us is None:
        return "–"
    ms = us / 1000
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def cell(stat, fmt):
    if stat is None or stat.median is None:
        return "–"
    if len(stat.values) == 1:
        return f"{fmt(stat.median)}"
    return f"**{fmt(stat.median)}** ({fmt(stat.min)}–{fmt(stat.max)})"


def figures_table(stats, systems, mode):
    lines = [
        "| system | W1.sat done/s | W1.10k achieved/s | W1.10k p50 ms | W1.10k p99 ms | W1.10k p99.9 ms |",
        "|---|---|---|---|---|---|",
    ]
    for system in systems:
        s = stats.get((system, mode))
        if s is None:
            continue
        lines.append(
            "| {} | {} | {} | {} | {} | {} |".format(
                SYSTEM_NAMES.get(system, system),
                cell(s.get("sat"), fmt_rate),
                cell(s.get("rate"), fmt_rate),
                cell(s.get("p50"), fmt_ms),
                cell(s.get("p99"), fmt_ms),
                cell(s.get("p999"), fmt_ms),
            )
        )
    return "\n".join(lines)


def ratio(numerator, denominator):
    if numerator is None or denominator is None or numerator.median is None:
        return None
    if not denominator.median:
        return None
    return numerator.median / denominator.median


def ratios_table(stats, systems, mode):
    """cmdq / peer for W1.sat throughput (> 1: cmdq ahead) and W1.10k p99 (< 1: ahead)."""
    mine = stats.get(("cmdq", mode), {})
    lines = [
        "| peer | W1.sat throughput, cmdq / peer | ahead? | W1.10k p99, cmdq / peer | ahead? |",
        "|---|---|---|---|---|",
    ]
    for system in systems:
        if system == "cmdq" or (system, mode) not in stats:
            continue
        theirs = stats[(system, mode)]
        sat = ratio(mine.get("sat"), theirs.get("sat"))
        p99 = ratio(mine.get("p99"), theirs.get("p99"))
        lines.append(
            "| {} | {} | {} | {} | {} |".format(
                SYSTEM_NAMES.get(system, system),
                "–" if sat is None else f"{sat:.2f}×",
                "–" if sat is None else ("yes" if sat > 1 else "**no**"),
                "–" if p99 is None else f"{p99:.2f}×",
                "–" if p99 is None else ("yes" if p99 < 1 else "**no**"),
            )
        )
    return "\n".join(lines)


def problems(errors, unfinished):
    lines = []
    for (system, mode, workload), errs in sorted(errors.items()):
        lines.append(f"- {SYSTEM_NAMES.get(system, system)} {mode} {workload}: "
                     f"{len(errs)} run(s) failed: {errs[0]}")
    for (system, mode, workload), left in sorted(unfinished.items()):
        lines.append(f"- {SYSTEM_NAMES.get(system, system)} {mode} {workload}: commands not "
                     f"done when the run ended, per run: {', '.join(str(x) for x in left)}")
    return "\n".join(lines) if lines else "- none: every run finished every command it sent."


def plot(stats, systems, out_dir):
    """Two PNGs: W1.sat throughput bars and W1.10k latency percentiles, D0 and D1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    names = [SYSTEM_NAMES.get(s, s) for s in systems]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    width = 0.38
    for i, mode in enumerate(MODES):
        xs, medians, low, high = [], [], [], []
        for j, system in enumerate(systems):
            stat = stats.get((system, mode), {}).get("sat")
            if stat is None:
                continue
            xs.append(j + (i - 0.5) * width)
            medians.append(stat.median)
            low.append(stat.median - stat.min)
            high.append(stat.max - stat.median)
        ax.bar(xs, medians, width, yerr=[low, high], capsize=3, label=mode,
               color=("#4c72b0", "#dd8452")[i])
    ax.set_xticks(range(len(systems)))
    ax.set_xticklabels(names, rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("W1.sat commands done / s")
    ax.set_title("W1.sat throughput (median, bars: min–max over rounds)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "w1_sat_throughput.png"), dpi=110)
    plt.close(fig)

    levels = [("p50", 0.5), ("p99", 0.99), ("p999", 0.999), ("max", 0.9999)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, mode in zip(axes, MODES):
        for system in systems:
            s = stats.get((system, mode))
            if not s or "p50" not in s:
                continue
            xs = [s[m].median / 1000 for m, _ in levels if m in s]
            ys = [-math.log10(1 - q) for m, q in levels if m in s]
            style = "-o" if system == "cmdq" else "--."
            ax.plot(xs, ys, style, label=SYSTEM_NAMES.get(system, system),
                    linewidth=2.2 if system == "cmdq" else 1.2)
        ax.set_xscale("log")
        ax.set_xlabel("submit → done, ms (log)")
        ax.set_title(f"W1.10k latency, {mode} (medians of the rounds)")
        ax.grid(alpha=0.3)
    axes[0].set_yticks([-math.log10(1 - q) for _, q in levels])
    axes[0].set_yticklabels(["p50", "p99", "p99.9", "max"])
    axes[0].set_ylabel("fraction of commands done (CDF, tail)")
    axes[1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "w1_10k_latency.png"), dpi=110)
    plt.close(fig)


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def load_line(rows):
    """The machine's 1-minute load average as each run ended (2 cores: above 2 is contention)."""
    loads = [float(row["load"].split()[0]) for row in rows if row.get("load")]
    if not loads:
        return ""
    return (f"Load average (1 min) at the end of each run: median {statistics.median(loads):.1f}, "
            f"{min(loads):.1f}–{max(loads):.1f} (2 cores: anything above ~2 is other work "
            "competing with the systems measured).")


def client_settings(rows):
    seen = {}
    for row in rows:
        if "result" in row:
            seen.setdefault((row["system"], row["mode"]), row["result"].get("mode", ""))
    return "\n".join(f"- {SYSTEM_NAMES.get(system, system)} {mode}: {text}"
                     for (system, mode), text in seen.items())


def render_page(rows, meta, settings, fairness, plots_rel):
    stats, errors, unfinished = aggregate(rows, rate_seconds_of(meta))
    systems = systems_in(rows)
    rounds = max((row["round"] for row in rows), default=0)
    parts = [
        "# cmdq against its peers (W1)",
        "",
        "Written by `make bench-peers` (bench/peers/run, then bench/peers/report.py): do not "
        "edit by hand; rerun it. Workloads: ../shared/WORKLOADS.md, W1. Every system was "
        "started fresh for each mode of each round, with its data in a temp dir on this "
        "machine's disk, on loopback; systems alternate within each round. **Server and load "
        "generator share the 2-core machine.** Cells: **median** (min–max) of "
        f"{rounds} rounds.",
        "",
        "## Run",
        "",
        "```",
        meta,
        "```",
        "",
        load_line(rows),
        "",
    ]
    for mode in MODES:
        if not any((s, mode) in stats for s in systems):
            continue
        parts += [
            f"## {mode}: {'in memory, no fsync' if mode == 'D0' else 'on disk before the acknowledgement'}",
            "",
            figures_table(stats, systems, mode),
            "",
            "Ratios (median over median):",
            "",
            ratios_table(stats, systems, mode),
            "",
        ]
    parts += [
        "## Plots",
        "",
        f"![W1.sat throughput]({plots_rel}/w1_sat_throughput.png)",
        "",
        f"![W1.10k latency percentiles]({plots_rel}/w1_10k_latency.png)",
        "",
        "## Runs that failed or left commands unfinished",
        "",
        problems(errors, unfinished),
        "",
        "## How each system was started",
        "",
        "```",
        settings,
        "```",
        "",
        "What the clients asked for (the result's `mode`):",
        "",
        client_settings(rows),
        "",
    ]
    if fairness:
        parts += [fairness, ""]
    return "\n".join(parts)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--page", required=True)
    parser.add_argument("--plots", required=True, help="directory of the PNGs")
    parser.add_argument("--fairness", default=os.path.join(os.path.dirname(__file__),
                                                          "fairness.md"))
    args = parser.parse_args(argv)
    rows = read_results(args.results)
    stats, _, _ = aggregate(rows)
    plot(stats, systems_in(rows), args.plots)
    plots_rel = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.page)))
    page = render_page(rows, read_text(args.meta), read_text(args.settings),
                       read_text(args.fairness), plots_rel)
    with open(args.page, "w") as f:
        f.write(page)
    print(f"report: {args.page}, plots in {args.plots}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
