"""`benchmarks/run.py --quick` still runs end to end and prints a number for every scenario.

Not a timing test: it asserts only that each row of the table is there with numbers, so CI
notices when the benchmark breaks (a route renamed, a sign-in changed, wrk's output misread).
Deselect with `-m "not benchmark"`."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import unavailable

pytestmark = pytest.mark.benchmark

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = [
    "hello-world (Flask)", "floor: one ORM row as JSON", "floor: one Core row as JSON",
    "floor: 25 ORM rows as JSON", "floor: signed-in page", "floor: signed-in 25-row table",
    "portal /healthz (pipeline)", "team page, 25 members", "htmx table fragment", "API members ?limit=25",
    "API member {mid}", "10k team page, page 3", "10k htmx fragment, page 3", "10k API members, page 3",
    "10k API member {mid}", "10k search 'member-4242'", "seats page", "groups page",
    "Cloudflare group members", "member add (htmx POST)",
    # --huge 120: the rows of the 100,000-member check, on a team small enough for CI
    "search, small team (1 match)", "120 team page 1", "120 team page, last (5)",
    "120 search (1 match)", "120 API members, last page",
]
NUMBER = r"\s+([\d.]+)"


def test_quick_benchmark_prints_every_scenario_with_numbers():
    if not (shutil.which("wrk") or os.path.exists("/usr/bin/wrk")):
        unavailable("wrk is not installed")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # SQLite, its own directory
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--small", "5", "--large", "60",
         "--huge", "120"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for row in ROWS:
        match = re.search(re.escape(row) + NUMBER * 4 + r"\s+(\d+)\b", out)
        assert match, f"no numbers for {row!r} in:\n{out}"
        rps, p50, p99, ratio, non_2xx = match.groups()
        assert float(rps) > 0 and float(p50) > 0 and float(p99) >= float(p50), (row, match.group(0))
        assert float(ratio) > 0 and non_2xx == "0", (row, match.group(0))
    for row in ("120 team page 1 / team page, 25 members", "120 search (1 match) / search, small team (1 match)"):
        assert re.search(re.escape(row) + r".*\s[\d.]+$", out, re.M), f"no ratio for {row!r} in:\n{out}"
    assert re.search(r"peak RSS per portal worker \(VmHWM\): [\d.]+ MB, [\d.]+ MB", out), out
