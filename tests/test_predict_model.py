"""The model, its registry round trip (real MLflow file store) and the evaluation of warnings."""

import numpy as np
import pandas as pd
import pytest

from altaviz.predict import evaluate, registry
from altaviz.predict.features import FEATURE_COLUMNS
from altaviz.predict.model import PROBABILITY, RUL, FailureModel, fit, save
from altaviz.predict.train import is_test_unit, model_episodes, score

T0 = pd.Timestamp("2026-03-01")


def _hours(h):
    return T0 + pd.Timedelta(hours=h)


def _training_frame(n=3000, seed=0):
    """The temperature slope gives the failure away; every other feature is noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(FEATURE_COLUMNS))), columns=list(FEATURE_COLUMNS))
    failing = rng.random(n) < 0.2
    frame["discharge_temp_mean_slope_24h"] = np.where(failing, 2.0, 0.0) + rng.normal(0, 0.2, n)
    frame["fails_within_horizon"] = failing
    frame["rul_hours"] = np.where(failing, 30.0, 300.0)
    frame["compressor_id"] = "U1"
    frame["hour_start"] = [_hours(h) for h in range(n)]
    return frame


def test_registry_round_trip_scores_with_the_promoted_version(tmp_path, config):
    registry.configure(tmp_path)
    import mlflow

    mlflow.set_experiment("test_round_trip")
    name = "test_failure_model"
    boosters = fit(_training_frame(), FEATURE_COLUMNS, fail_label="fails_within_horizon", rul_label="rul_hours")
    assert registry.production_version(name) is None
    versions = []
    for i in range(2):
        info = mlflow.pyfunc.log_model(
            artifact_path="model",
            python_model=FailureModel(),
            artifacts=save(boosters, tmp_path / f"b{i}"),
            registered_model_name=name,
            pip_requirements=["lightgbm==4.6.0"],
        )
        versions.append(str(info.registered_model_version))
    assert registry.production_version(name) is None  # registering is not promoting
    registry.promote(name, versions[0])
    model, version = registry.load_production(name)
    assert version == versions[0]
    registry.promote(name, versions[1])  # one action
    assert registry.production_version(name) == versions[1]

    rows = _training_frame(200, seed=1)
    out = score(rows, model, version, config, pd.Timestamp("2026-03-10", tz="UTC"))
    assert list(out.model_version.unique()) == [version]
    failing = rows.fails_within_horizon.to_numpy()
    assert out.failure_probability_72h[failing].mean() > 0.8 > 0.2 > out.failure_probability_72h[~failing].mean()
    assert (out.rul_hours >= 0).all()


def test_loading_without_a_promoted_version_says_what_to_do(tmp_path):
    registry.configure(tmp_path)
    with pytest.raises(LookupError, match="06_train"):
        registry.load_production("nothing_registered")


def test_boosters_predict_probability_and_rul_columns(tmp_path):
    boosters = fit(_training_frame(), FEATURE_COLUMNS, fail_label="fails_within_horizon", rul_label="rul_hours")
    out = boosters.predict(_training_frame(10, seed=2))
    assert list(out.columns) == [PROBABILITY, RUL]


def test_the_unit_split_is_stable_and_roughly_the_fraction():
    units = [f"COMP-{i:03d}" for i in range(1, 1001)]
    chosen = [u for u in units if is_test_unit(u, 0.3)]
    assert chosen == [u for u in units if is_test_unit(u, 0.3)]
    assert 0.2 < len(chosen) / len(units) < 0.4


def test_model_warnings_open_after_the_minimum_hours_and_clear_with_hysteresis(spark, config):
    p = [0.1, 0.6, 0.2, 0.6, 0.7, 0.85, 0.45, 0.35, 0.2, 0.9]
    hours = pd.DataFrame(
        {"compressor_id": "U1", "hour_start": [_hours(h) for h in range(len(p))], "failure_probability": p}
    )
    episodes = model_episodes(spark, hours, config)
    # one hour at 0.6 opens nothing; two open; 0.45 and 0.35 hold it (above clear); 0.2 clears; the
    # last hour at 0.9 is one hour only
    assert episodes.to_dict("records") == [{"compressor_id": "U1", "opened_at": _hours(4), "cleared_at": _hours(8)}]


def test_model_episodes_name_their_source_escalate_and_rebuild_the_same_from_a_reset_hour(spark, config):
    from altaviz.alerts import to_alert_episodes, to_model_levels

    p = [0.2, 0.6, 0.7, 0.9, 0.6, 0.1, 0.6, 0.6, 0.6]
    frame = spark.createDataFrame(
        [("U1", _hours(h).to_pydatetime(), v) for h, v in enumerate(p)],
        "compressor_id string, hour_start timestamp, failure_probability_72h double",
    )
    whole = to_alert_episodes(to_model_levels(frame, config.predictions), "model").orderBy("opened_at").collect()
    assert [(e.sensor, e.source, e.severity, e.is_active) for e in whole] == [
        ("failure_risk", "model", "critical", False),
        ("failure_risk", "model", "warning", True),
    ]
    assert whole[0].escalated_at == _hours(3) and whole[0].cleared_at == _hours(5)
    # From the reset hour (0.1 < clear) on, the open episode is rebuilt with the same id.
    tail = frame.filter(frame.hour_start >= _hours(5).to_pydatetime())
    rebuilt = to_alert_episodes(to_model_levels(tail, config.predictions), "model").collect()
    assert [e.alert_id for e in rebuilt] == [whole[1].alert_id]


def _events(rows):
    return pd.DataFrame(
        [(u, kind, _hours(s), None if e is None else _hours(e), "valve") for u, kind, s, e in rows],
        columns=["compressor_id", "event_type", "started_at", "ended_at", "failure_mode"],
    )


def test_lead_time_is_measured_from_the_first_warning_of_the_run_up():
    events = _events([("U1", "failure", 100, 120), ("U1", "failure", 300, 310)])
    episodes = pd.DataFrame(
        [("U1", _hours(10), _hours(20)), ("U1", _hours(40), _hours(60)), ("U1", _hours(80), _hours(125)),
         ("U1", _hours(250), _hours(260))],
        columns=evaluate.EPISODE_COLUMNS,
    )  # fmt: skip
    leads = evaluate.lead_times(episodes, events, lookback_hours=72, period=(_hours(0), _hours(400)))
    # run-up of the first failure starts 72 h before it (hour 28): the hour-10 episode is too early
    assert leads.lead_hours.tolist() == [60.0, 50.0]


def test_an_episode_no_failure_or_repair_follows_is_a_false_alarm():
    events = _events([("U1", "failure", 100, 120), ("U2", "corrective_repair", 50, 60)])
    episodes = pd.DataFrame(
        [("U1", _hours(90), pd.NaT), ("U2", _hours(30), _hours(45)), ("U3", _hours(10), _hours(12))],
        columns=evaluate.EPISODE_COLUMNS,
    )
    wrong = evaluate.false_alarms(episodes, events, horizon_hours=72, period=(_hours(0), _hours(200)))
    assert wrong.compressor_id.tolist() == ["U3"]
    row, _ = evaluate.summarize(
        "model", episodes, events, healthy_hours=730.0, healthy_units={"U3"}, horizon_hours=72, lookback_hours=72,
        period=(_hours(0), _hours(200)),
    )  # fmt: skip
    assert row["false_alarm_episodes"] == 1 and row["false_alarms_per_healthy_unit_month"] == 1.0
    assert row["false_alarms_on_healthy_units"] == 1 and row["share_warned_24h"] == 0.0


def test_an_episode_too_close_to_the_end_to_know_what_follows_is_not_judged():
    events = _events([])
    episodes = pd.DataFrame(
        [("U1", _hours(150), pd.NaT), ("U2", _hours(120), _hours(140)), ("U3", _hours(10), _hours(12))],
        columns=evaluate.EPISODE_COLUMNS,
    )
    wrong = evaluate.false_alarms(episodes, events, horizon_hours=72, period=(_hours(0), _hours(200)))
    assert wrong.compressor_id.tolist() == ["U3"]  # U1 still open, U2 cleared < 72 h before the end


def test_slow_failures_are_judged_against_the_answer_key_by_unit_and_trip_time():
    leads = pd.DataFrame(
        [("U1", _hours(100), "valve", 30.0, "model"), ("U2", _hours(200), "bearing", 10.0, "model"),
         ("U3", _hours(300), "cooler", None, "model")],
        columns=["compressor_id", "failed_at", "failure_mode", "lead_hours", "source"],
    )  # fmt: skip
    truth = pd.DataFrame(
        [("U1", _hours(20), _hours(100)), ("U2", _hours(100), _hours(200)), ("U3", _hours(290), _hours(300))],
        columns=["compressor_id", "degradation_start", "failure_at"],
    )
    # U3 degraded 10 h only: not a slow failure; of U1 and U2 one was warned 24 h ahead.
    assert evaluate.slow_failures_warned(leads, truth.assign(failure_at=truth.failure_at.dt.tz_localize("UTC"))) == {
        "model": 0.5
    }


def test_an_alarm_while_the_answer_key_says_the_unit_degrades_is_not_an_alarm_on_a_healthy_unit():
    truth = pd.DataFrame(
        [("U1", _hours(50), _hours(120))], columns=["compressor_id", "degradation_start", "repaired_at"]
    )
    episodes = pd.DataFrame(
        [("U1", _hours(60), "model"), ("U1", _hours(10), "model"), ("U2", _hours(70), "model"),
         ("U1", _hours(130), "threshold")],
        columns=["compressor_id", "opened_at", "source"],
    )  # fmt: skip
    # U1 at hour 60 degrades (not counted); U1 at hour 10 and U2 were healthy; U1 after its repair too.
    assert evaluate.alarms_while_healthy(episodes, truth) == {"model": 2, "threshold": 1}
