"""Times a full local pipeline run in a fresh state folder and prints seconds per notebook.

    .venv/bin/python benchmarks/bench_pipeline.py                        # default fleet: 10 units × 7 days
    .venv/bin/python benchmarks/bench_pipeline.py -p n_compressors=1000 -p days=30

Prints wall time per activity (notebook start to finish, JVM start included), the step's own time
from ops_run_steps, rows written, and the total.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from deltalake import DeltaTable

from altaviz.runner import run_pipeline

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--param", action="append", default=[], help="pipeline parameter NAME=VALUE")
    parser.add_argument("--keep", action="store_true", help="keep the state folder")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.param)
    home = Path(tempfile.mkdtemp(prefix="altaviz-bench-"))
    started = time.perf_counter()
    result = run_pipeline(
        REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json",
        REPO / "notebooks",
        overrides=overrides,
        home=home,
    )
    total = time.perf_counter() - started
    steps = DeltaTable(str(home / "lakehouse/Tables/ops_run_steps")).to_pandas().set_index("step")
    print(f"parameters: {json.dumps(overrides) or 'defaults'}")
    print(f"{'activity':<12} {'wall s':>8} {'step s':>8} {'rows out':>10}")
    for a in result.activities:
        step = steps.loc[a.name] if a.name in steps.index else None
        print(
            f"{a.name:<12} {a.seconds:>8.1f} {step['duration_s'] if step is not None else float('nan'):>8.1f} "
            f"{int(step['rows_out']) if step is not None else 0:>10,}"
        )
    print(f"{'total':<12} {total:>8.1f}   ({'succeeded' if result.succeeded else 'FAILED'})")
    from altaviz.publish.embedded import stop_embedded_postgres

    stop_embedded_postgres(home)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
