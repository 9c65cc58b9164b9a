"""09_record_failure's rows, without Spark: which steps count as failed, when they started, and
an error message that always fits the serving column (NVARCHAR(4000) / VARCHAR(4000))."""

import json
from datetime import UTC, datetime, timedelta

from altaviz import jobs

NOW = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)


def test_only_activities_with_an_error_are_failed_steps_and_start_after_the_last_recorded_one():
    recorded = [("01_simulate", NOW - timedelta(minutes=9)), ("02_bronze", NOW - timedelta(minutes=4))]
    errors = {
        "01_simulate": "",
        "02_bronze": "",
        "03_silver": "cell 3: ValueError: bad",
        "04_gold": " ",
        "05_publish": "",
    }
    (row,) = jobs.failed_step_rows("run-1", errors, recorded, NOW)
    run_id, step, status, started, finished, seconds, rows_in, rows_out, detail = row
    assert (run_id, step, status, rows_in, rows_out) == ("run-1", "03_silver", "failed", 0, 0)
    assert (started, finished, seconds) == (NOW - timedelta(minutes=4), NOW, 240.0)
    assert json.loads(detail) == {"error": "cell 3: ValueError: bad"}


def test_a_handler_run_without_any_error_still_records_a_failed_run():
    (row,) = jobs.failed_step_rows("run-2", {"01_simulate": ""}, [], NOW)
    assert row[1:4] == ("pipeline", "failed", NOW) and "no activity reported" in json.loads(row[8])["error"]


def test_a_long_error_is_cut_to_fit_the_serving_column_and_says_so():
    message = 'Traceback "quoted"\n' + "é" * 10_000
    detail = jobs.failure_detail(message)
    assert len(detail) <= jobs.MAX_DETAIL_CHARS
    error = json.loads(detail)["error"]
    assert error.startswith('Traceback "quoted"\n') and error.endswith("…[cut]")
    assert jobs.failure_detail("short") == '{"error": "short"}'
