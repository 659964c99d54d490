"""Tests of report.py's pure parts: aggregation, tables, ratios (no matplotlib, no peers)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def row(system, mode, workload, rnd, rate, p50=100, p99=1000, p999=2000, unfinished=0):
    return {"system": system, "mode": mode, "workload": workload, "round": rnd,
            "result": {"throughput_per_s": rate,
                       "latency_us": {"p50": p50, "p99": p99, "p999": p999, "max": 3000},
                       "extra": {"unfinished": unfinished}}}


ROWS = [
    row("cmdq", "D0", "W1.sat", 1, 100), row("cmdq", "D0", "W1.sat", 2, 300),
    row("cmdq", "D0", "W1.sat", 3, 200),
    row("cmdq", "D0", "W1.10k", 1, 10000, p99=500), row("cmdq", "D0", "W1.10k", 2, 9990, p99=700),
    row("redis", "D0", "W1.sat", 1, 400), row("redis", "D0", "W1.sat", 2, 400, unfinished=5),
    row("redis", "D0", "W1.10k", 1, 10000, p99=1000),
    {"system": "redis", "mode": "D0", "workload": "W1.10k", "round": 2, "error": "exit 1: boom"},
]


class AggregateTest(unittest.TestCase):
    def test_median_and_range_per_system_and_mode(self):
        stats, _, _ = report.aggregate(ROWS)
        sat = stats[("cmdq", "D0")]["sat"]
        self.assertEqual((sat.median, sat.min, sat.max), (200, 100, 300))
        self.assertEqual(stats[("cmdq", "D0")]["p99"].median, 600)

    def test_errors_and_unfinished_are_kept_apart(self):
        stats, errors, unfinished = report.aggregate(ROWS)
        self.assertEqual(len(stats[("redis", "D0")]["p99"].values), 1)
        self.assertEqual(errors[("redis", "D0", "W1.10k")], ["exit 1: boom"])
        self.assertEqual(unfinished[("redis", "D0", "W1.sat")], [5])


    def test_cmdq_bench_unfinished_is_offered_minus_done(self):
        cmdq = {"system": "cmdq", "mode": "D1", "workload": "W1.10k", "round": 1,
                "result": {"commands": 33000, "throughput_per_s": 5000,
                           "params": {"offered_per_s": 10000}, "extra": {"lost": 0}}}
        _, _, unfinished = report.aggregate([cmdq], report.rate_seconds_of(
            "rounds 3; W1.10k 5 s at 10,000/s"))
        self.assertEqual(unfinished[("cmdq", "D1", "W1.10k")], [17000])


class TablesTest(unittest.TestCase):
    def test_cells_show_median_and_range(self):
        stats, _, _ = report.aggregate(ROWS)
        table = report.figures_table(stats, ["cmdq", "redis"], "D0")
        self.assertIn("| cmdq serve (HTTP) | **200** (100–300) |", table)
        self.assertIn("| Redis Streams | **400** (400–400) |", table)

    def test_ratios_say_who_is_ahead(self):
        stats, _, _ = report.aggregate(ROWS)
        table = report.ratios_table(stats, ["cmdq", "redis"], "D0")
        # throughput 200 / 400: behind; p99 600 / 1000: ahead
        self.assertIn("| Redis Streams | 0.50× | **no** | 0.60× | yes |", table)

    def test_page_lists_failed_runs(self):
        page = report.render_page(ROWS, "meta", "settings", "", "benchmarks")
        self.assertIn("1 run(s) failed: exit 1: boom", page)
        self.assertIn("## D0", page)
        self.assertNotIn("## D1", page)


if __name__ == "__main__":
    unittest.main()
