"""Progress of long steps: lines in the notebook's output that the local runner also shows in the
terminal. A phase reports when it starts, the Spark tasks done while it runs long, and its rows per
second when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import SparkSession

# Lines starting with this mark are progress; the local runner forwards them to the terminal.
MARK = "▸ "
# While a phase runs longer than this, a line with the Spark tasks done so far follows every interval.
TICK_SECONDS = 15.0


def report(step: str, message: str) -> None:
    print(f"{MARK}{step} · {message}", flush=True)


@dataclass
class Phase:
    rows: int = 0


@contextmanager
def phase(spark: SparkSession, step: str, what: str) -> Iterator[Phase]:
    """Reports ``what`` as it runs; set ``.rows`` on the yielded object to report a rate at the end."""
    result = Phase()
    started = time.perf_counter()
    stop = threading.Event()
    ticker = threading.Thread(target=_tick, args=(spark, step, what, started, stop), daemon=True)
    ticker.start()
    try:
        yield result
    finally:
        stop.set()
        ticker.join()
    seconds = time.perf_counter() - started
    rate = f" ({result.rows / seconds:,.0f} rows/s)" if result.rows and seconds > 0 else ""
    report(step, f"{what}: {result.rows:,} rows in {seconds:.1f} s{rate}")


def _tick(spark: SparkSession, step: str, what: str, started: float, stop: threading.Event) -> None:
    tracker = spark.sparkContext.statusTracker()
    while not stop.wait(TICK_SECONDS):
        done = total = 0
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is not None:
                done, total = done + info.numCompletedTasks, total + info.numTasks
        tasks = f", running stage tasks {done}/{total} ({100 * done // total}%)" if total else ""
        report(step, f"{what}: {time.perf_counter() - started:.0f} s{tasks}")
