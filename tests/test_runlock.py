"""One local run at a time per state folder, and what a killed run leaves behind."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from altaviz import runlock, runner

REPO = Path(__file__).resolve().parents[1]
HOLD = """
import sys, time
from pathlib import Path
from altaviz.runlock import exclusive_run
with exclusive_run(Path(sys.argv[1]), "held-run"):
    print("holding", flush=True)
    time.sleep(600)
"""


def _hold_in_subprocess(home: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(home)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_run_is_refused_naming_the_run_that_holds_the_folder(tmp_path):
    holder = _hold_in_subprocess(tmp_path)
    try:
        with pytest.raises(runlock.RunLockedError, match=rf"run held-run \(pid {holder.pid} .*{tmp_path}"):
            runner.run_pipeline(
                REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json",
                REPO / "notebooks",
                home=tmp_path,
            )
        assert not (tmp_path / "runs").exists()  # refused before touching the state folder
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_run_leaves_no_lock_and_the_next_run_reports_it(tmp_path):
    holder = _hold_in_subprocess(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with runlock.exclusive_run(tmp_path, "next-run") as left_behind:
        assert left_behind["run_id"] == "held-run" and left_behind["pid"] == holder.pid
    with runlock.exclusive_run(tmp_path, "after-a-clean-end") as left_behind:
        assert left_behind is None  # a run that ends normally leaves nothing behind


def test_the_lock_is_exclusive_within_one_process_too_and_released_at_the_end(tmp_path):
    with runlock.exclusive_run(tmp_path, "first"):
        with pytest.raises(runlock.RunLockedError, match="run first"):
            with runlock.exclusive_run(tmp_path, "second"):
                pass
    with runlock.exclusive_run(tmp_path, "third") as left_behind:
        assert left_behind is None


def test_the_cli_refuses_with_its_own_exit_code(tmp_path):
    holder = _hold_in_subprocess(tmp_path)
    try:
        cli = subprocess.run(
            [sys.executable, "-m", "altaviz.cli", "run", "--home", str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    assert cli.returncode == 3
    assert "not started" in cli.stdout and "held-run" in cli.stdout
