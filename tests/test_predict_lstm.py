"""The fleet's RUL LSTM: sequences per unit and run, censored hours and units, the split, and the
whole training path (real Spark, LightGBM, Keras and an MLflow file store) on a small synthetic fleet."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from altaviz.predict import evaluate, registry
from altaviz.predict.lstm import FLEET_CONFIG, RUL_LSTM, fit_fleet_lstm, sequences, warning_probability
from altaviz.predict.sequence import UnitSeries, make_windows, step_windows
from altaviz.predict.train import LSTM_SOURCE, _split, is_test_unit, load_lstm, train_and_register
from altaviz.schemas import ALERT_EPISODES, GOLD_HOURLY_READINGS, SILVER_MAINTENANCE_EVENTS

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOURS = 240
UNITS = [f"COMP-{i:03d}" for i in range(1, 13)]
# With test_unit_fraction 0.3, COMP-008, -009 and -011 are the test units (crc32).
FAILURES = {
    **{f"COMP-{i:03d}": 100 for i in range(1, 7)},  # training units, failing before the cut (hour 167)
    "COMP-007": 140,
    "COMP-010": 140,
    "COMP-008": 220,  # test units failing after the cut
    "COMP-009": 215,
}  # COMP-011 (test) and COMP-012 (training) never fail: every RUL of theirs is censored (cap 336 h)
DEGRADES_HOURS = 60
REPAIR_HOURS = 6


def _ts(h):
    return T0 + timedelta(hours=h)


def _fleet(spark):
    rng = np.random.default_rng(3)
    rows = []
    for u in UNITS:
        fails = FAILURES.get(u)
        for h in range(HOURS):
            if fails is not None and fails <= h < fails + REPAIR_HOURS:
                continue  # down for the repair: no hourly row
            wear = 0.0 if fails is None or h >= fails else max(0.0, 1 - (fails - h) / DEGRADES_HOURS)
            temp = 250 + 40 * wear + rng.normal(0, 1.5)
            vib = 2.5 + 3 * wear + rng.normal(0, 0.1)
            rows.append((
                u, _ts(h), 6, vib, vib + 0.5, temp, temp + 2, 60.0 + rng.normal(0, 0.5), 58.0, 1000.0, 1010.0,
                940.0, 1200.0 - 100 * wear, 9000.0 - 500 * wear, "normal", "normal", "normal", "normal", _ts(h).date(),
            ))  # fmt: skip
    events = [(f"WO-{u}", u, "failure", "valve", _ts(h), _ts(h + REPAIR_HOURS), "", "r") for u, h in FAILURES.items()]
    return (
        spark.createDataFrame(rows, GOLD_HOURLY_READINGS),
        spark.createDataFrame(events, SILVER_MAINTENANCE_EVENTS),
        spark.createDataFrame([], ALERT_EPISODES),
    )


def test_sequences_never_cross_a_unit_or_a_work_order():
    frame = pd.DataFrame({
        "compressor_id": ["B", "A", "A", "B", "A", "A", "B"],
        "hour_start": [_ts(h) for h in (3, 5, 1, 1, 2, 9, 2)],
    })  # fmt: skip
    events = pd.DataFrame({"compressor_id": ["A"], "started_at": [_ts(4)]})
    got = [(frame.compressor_id[p].iloc[0], frame.hour_start[p].tolist()) for p in sequences(frame, events)]
    assert got == [
        ("A", [_ts(1), _ts(2)]),  # before A's work order
        ("A", [_ts(5), _ts(9)]),  # after it
        ("B", [_ts(1), _ts(2), _ts(3)]),  # in time order, one unit only
    ]


def test_censored_steps_label_no_window_and_every_step_ends_one():
    f = np.arange(10, dtype=float)[:, None]
    rul = np.array([9, 8, 7, 6, 5, np.nan, np.nan, np.nan, np.nan, np.nan])  # censored after step 4
    x, y, ids = make_windows([UnitSeries(1, f, rul)], window=3, cap=100, every_step=True)
    assert y.tolist() == [9, 8, 7, 6, 5] and x[0, :, 0].tolist() == [0, 0, 0] and x[4, :, 0].tolist() == [2, 3, 4]
    # A unit observed healthy for less than the cap: all censored, no window, not "failing".
    x, y, _ = make_windows([UnitSeries(2, f, np.full(10, np.nan))], window=3, cap=100, every_step=True)
    assert len(x) == len(y) == 0
    assert step_windows(f, 3).shape == (10, 3, 1)


def test_the_fleet_lstm_keeps_one_lstm_on_min_max_scaled_raw_features():
    # C-MAPSS's options (smoothing, z-scores, CNN members) are not the fleet's: FleetRul.predict and
    # its saved preprocessing assume one min-max scaler over unsmoothed features.
    assert FLEET_CONFIG.scaling == "minmax" and FLEET_CONFIG.smoothing == 0
    assert set(FLEET_CONFIG.architectures) == {"lstm"}
    with pytest.raises(ValueError, match="does not smooth"):
        fit_fleet_lstm(
            None, None, rul_label="rul_hours", rul_cap_hours=336, config=replace(FLEET_CONFIG, smoothing=0.1)
        )


def test_a_predicted_rul_at_the_horizon_is_the_warning_level():
    p = warning_probability(pd.Series([0.0, 72.0, 200.0]), horizon_hours=72, warn_probability=0.5)
    assert p.tolist() == [1.0, 0.5, 0.0]


def test_the_fleet_lstm_trains_on_the_training_split_and_is_judged_and_logged_with_the_version(spark, config, tmp_path):
    fraction = config.predictions.test_unit_fraction
    assert [u for u in UNITS if is_test_unit(u, fraction)] == ["COMP-008", "COMP-009", "COMP-011"]
    hourly, events, episodes = _fleet(spark)

    # The split: no test unit and no hour after the cut in training.
    train, test_all, cut = _split(hourly, events, config)
    train = train.toPandas()
    assert not set(train.compressor_id) & {"COMP-008", "COMP-009", "COMP-011"}
    assert train.hour_start.max() < pd.Timestamp(cut)
    assert train.loc[train.compressor_id == "COMP-012", "rul_hours"].isna().all()  # censored, never failing

    registry.configure(tmp_path)
    # 06_train with write=False: fitted and judged, nothing logged or registered.
    dry = train_and_register(hourly, events, episodes, config, data_source="synthetic", register=False)
    assert dry["model_version"] is None and [r["source"] for r in dry["evaluation"]] == [
        "model",
        "threshold",
        LSTM_SOURCE,
    ]
    assert not mlflow.tracking.MlflowClient().search_registered_models()
    assert registry.production_version(config.predictions.model_name) is None

    refit = config.model_copy(
        update={"predictions": config.predictions.model_copy(update={"refit_on_all_hours": True})}
    )
    result = train_and_register(hourly, events, episodes, refit, data_source="synthetic")
    table = pd.DataFrame(result["evaluation"])
    assert list(table.source) == ["model", "threshold", LSTM_SOURCE]
    lstm_row = table.set_index("source").loc[LSTM_SOURCE]
    assert np.isfinite(lstm_row.rul_mae_hours) and np.isfinite(lstm_row.rul_rmse_hours)
    assert lstm_row.failures == 2  # the two test failures after the cut, judged for the LSTM too

    name, version = result["model_name"], result["model_version"]
    client = mlflow.tracking.MlflowClient()
    run = client.get_run(client.get_model_version(name, version).tags["mlflow_run_id"])
    assert run.data.metrics["lstm_rul_mae_hours"] == pytest.approx(lstm_row.rul_mae_hours)
    # Judged on the split, registered from every labelled hour (refit_on_all_hours): the test units too.
    params = run.data.params
    assert int(params["train_units"]) == 9 and int(params["registered_fit_units"]) == len(UNITS)
    assert int(params["registered_fit_positive_hours"]) > int(params["train_positive_hours"])
    assert {"lstm_rul_rmse_hours", "lstm_val_rmse_hours", "lstm_best_epoch", "rul_mae_hours"} <= set(run.data.metrics)
    assert {a.path for a in client.list_artifacts(run.info.run_id, "lstm")} >= {
        "lstm/member_0.keras",
        "lstm/report.json",
    }

    # The logged LSTM loads back, and its validation units were training units.
    lstm = load_lstm(name, version)
    report = json.loads(
        Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="lstm/report.json")).read_text()
    )
    assert report["validation_units"] and set(report["validation_units"]) <= set(train.compressor_id)
    test_all = test_all.toPandas()
    predicted = lstm.predict(test_all, events.toPandas())
    assert predicted.notna().all() and (predicted >= 0).all() and (predicted <= config.predictions.rul_cap_hours).all()
    after = test_all.assign(**{RUL_LSTM: predicted})[test_all.hour_start >= pd.Timestamp(cut)]
    errors = evaluate.rul_errors(after, predicted=RUL_LSTM)
    assert errors["rul_mae_hours"] == pytest.approx(lstm_row.rul_mae_hours, rel=1e-4)
    # It learned something: hours close to a failure get a shorter RUL than healthy hours.
    near = after[after.rul_hours < 24][RUL_LSTM].mean()
    healthy = after[after.compressor_id == "COMP-011"][RUL_LSTM].mean()
    assert near < healthy
