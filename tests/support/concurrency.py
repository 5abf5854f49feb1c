"""Run calls at the same moment, from threads, for race tests."""
from __future__ import annotations

import threading


def run_together(calls, timeout: float = 120) -> list:
    """Start every call at the same moment; return what each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what went wrong
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results
