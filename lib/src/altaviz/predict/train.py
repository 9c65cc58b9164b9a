"""Training, honest evaluation and registration of the failure model (notebook ``06_train``), and
scoring with the promoted version (``07_score``).

Split by unit and by time: a hash of the unit id sends ``test_unit_fraction`` of the units to test
only; training units train only on hours before the time cut; the test units are judged after it.
No unit's future, and no test unit at all, is seen in training.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import zlib
from datetime import datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from altaviz.alerts import to_alert_episodes, to_model_levels
from altaviz.config import AltavizConfig
from altaviz.predict import evaluate, registry
from altaviz.predict.features import FEATURE_COLUMNS, to_features, unit_baselines, with_derived_signals
from altaviz.predict.labels import running_hours, to_labels
from altaviz.predict.lstm import RUL_LSTM, FleetRul, fit_fleet_lstm, warning_probability
from altaviz.predict.model import PROBABILITY, RUL, Boosters, FailureModel, fit, save
from altaviz.schemas import MODEL_SOURCE, RUNNING_STATE, THRESHOLD_SOURCE

log = logging.getLogger("altaviz.predict.train")

EXPERIMENT = "altaviz_failure_prediction"
FAIL_LABEL = "fails_within_horizon"
RUL_LABEL = "rul_hours"
PIP_REQUIREMENTS = ["lightgbm==4.6.0", "mlflow-skinny==2.22.0", "pandas", "numpy", "altaviz"]
LSTM_SOURCE = "lstm_rul"  # the evaluation row of the RUL LSTM (its warnings: predicted RUL < horizon)
LSTM_ARTIFACTS = "lstm"  # the run's artifact folder holding the fitted LSTM


def feature_frame(hourly: DataFrame, config: AltavizConfig) -> DataFrame:
    """Features of every running unit-hour of ``hourly`` against each unit's own baseline."""
    baselines = unit_baselines(with_derived_signals(hourly).filter(F.col("health_status") != "down"),
                               config.predictions.baseline_days)  # fmt: skip
    return to_features(hourly, baselines)


def labelled_frame(hourly: DataFrame, events: DataFrame, config: AltavizConfig) -> DataFrame:
    """Features with their labels, for the running hours outside work-order windows."""
    p = config.predictions
    labels = to_labels(hourly, events, horizon_hours=p.horizon_hours, rul_cap_hours=p.rul_cap_hours)
    in_service = running_hours(hourly, events).select("compressor_id", "hour_start")
    return (
        feature_frame(hourly, config)
        .join(in_service, ["compressor_id", "hour_start"])
        .join(
            labels.select("compressor_id", "hour_start", FAIL_LABEL, RUL_LABEL, "is_censored"),
            ["compressor_id", "hour_start"],
            "left",
        )
    )


def is_test_unit(unit: str, fraction: float) -> bool:
    """Stable across runs and machines (crc32, not Python's salted hash); ``test_unit`` is the same in Spark."""
    return zlib.crc32(unit.encode()) % 1000 < fraction * 1000


def test_unit(fraction: float) -> Column:
    return F.crc32(F.col("compressor_id").cast("binary")) % 1000 < F.lit(fraction * 1000)


def time_cut(hourly: DataFrame, fraction: float) -> datetime:
    first, last = hourly.agg(F.min("hour_start"), F.max("hour_start")).first()
    return first + (last - first) * fraction


def as_seen_at(events: DataFrame, cut: datetime) -> DataFrame:
    """The work orders as the CMMS showed them at ``cut``: those started before it, still open if
    they ended after it."""
    return events.filter(F.col("started_at") < F.lit(cut)).withColumn(
        "ended_at", F.when(F.col("ended_at") < F.lit(cut), F.col("ended_at"))
    )


def split(hourly: DataFrame, events: DataFrame, config: AltavizConfig) -> tuple[DataFrame, DataFrame, datetime]:
    """Training rows: training units before the cut, labelled only from what was known at the cut (a
    label near the cut is censored, never peeking past it). Test rows: test units after the cut,
    labelled from all records, their features computed with their own history before the cut."""
    train, test, cut = _split(hourly, events, config)
    return train, test.filter(F.col("hour_start") >= F.lit(cut)), cut


def _split(hourly: DataFrame, events: DataFrame, config: AltavizConfig) -> tuple[DataFrame, DataFrame, datetime]:
    """As ``split``, but the test units' rows before the cut too: the inputs (never the labels, never
    training) of the LSTM's windows that end just after the cut."""
    p = config.predictions
    cut = time_cut(hourly, p.train_time_fraction)
    in_test = test_unit(p.test_unit_fraction)
    before = hourly.filter(~in_test & (F.col("hour_start") < F.lit(cut)))
    train = labelled_frame(before, as_seen_at(events, cut), config)
    test = labelled_frame(hourly.filter(in_test), events, config)
    return train, test, cut


def threshold_episodes(episodes: DataFrame) -> pd.DataFrame:
    """The threshold alert episodes (every sensor limit; a stop is not a warning)."""
    return (
        episodes.filter((F.col("source") == THRESHOLD_SOURCE) & (F.col("sensor") != RUNNING_STATE))
        .select(*evaluate.EPISODE_COLUMNS)
        .toPandas()
    )


def model_episodes(spark: SparkSession, scored: pd.DataFrame, config: AltavizConfig) -> pd.DataFrame:
    """The model alert episodes the pipeline would open on ``scored`` (the same transforms as
    07_score), as evaluation episodes."""
    hours = scored.loc[:, ["compressor_id", "hour_start", PROBABILITY]].rename(
        columns={PROBABILITY: "failure_probability_72h"}
    )
    frame = spark.createDataFrame(hours, "compressor_id string, hour_start timestamp, failure_probability_72h double")
    levels = to_model_levels(frame, config.predictions)
    return to_alert_episodes(levels, MODEL_SOURCE).select(*evaluate.EPISODE_COLUMNS).toPandas()


def evaluation_table(
    spark: SparkSession,
    scored: pd.DataFrame,
    events: pd.DataFrame,
    thresholds: pd.DataFrame,
    config: AltavizConfig,
    period: tuple,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The comparison of the model's warnings and the threshold alerts on the units and period of
    ``scored`` (rows with ``failure_probability``, ``rul_hours_predicted`` and the labels; with
    ``rul_hours_predicted_lstm`` also a row for the RUL LSTM, warning while its RUL < horizon).
    Returns the table, the per-failure lead times and the episodes judged (with their ``source``)."""
    p = config.predictions
    units = set(scored.compressor_id)
    events = events[events.compressor_id.isin(units)]
    found = events[events.event_type.isin(["failure", "corrective_repair"])]
    in_period = found[(found.started_at > period[0]) & (found.started_at <= period[1])]
    healthy_units = units - set(in_period.compressor_id)
    healthy_hours = float((scored[FAIL_LABEL] == False).sum())  # noqa: E712  (null = censored, not healthy)
    common = {
        "events": events,
        "healthy_hours": healthy_hours,
        "healthy_units": healthy_units,
        "horizon_hours": p.horizon_hours,
        "lookback_hours": p.rul_cap_hours,
        "period": period,
    }
    sources = {
        "model": model_episodes(spark, scored, config),
        "threshold": thresholds[thresholds.compressor_id.isin(units)],
    }
    if RUL_LSTM in scored:
        from_rul = warning_probability(
            scored[RUL_LSTM], horizon_hours=p.horizon_hours, warn_probability=p.warn_probability
        )
        sources[LSTM_SOURCE] = model_episodes(spark, scored.assign(**{PROBABILITY: from_rul}), config)
    rows, leads = [], []
    for name, episodes in sources.items():
        row, lead = evaluate.summarize(name, episodes, **common)
        rows.append(row)
        leads.append(lead)
    table = pd.DataFrame(rows)
    errors = evaluate.rul_errors(scored)
    table.loc[table.source == "model", list(errors)] = list(errors.values())
    if RUL_LSTM in scored:
        errors = evaluate.rul_errors(scored, predicted=RUL_LSTM)
        table.loc[table.source == LSTM_SOURCE, list(errors)] = list(errors.values())
    judged = pd.concat(
        [e.loc[:, evaluate.EPISODE_COLUMNS].assign(source=name) for name, e in sources.items()], ignore_index=True
    )
    return table, pd.concat(leads, ignore_index=True), judged


def train_and_register(
    hourly: DataFrame,
    events: DataFrame,
    episodes: DataFrame,
    config: AltavizConfig,
    *,
    data_source: str,
    register: bool = True,
) -> dict:
    """Fits on the training split, judges on the test split, logs both to MLflow, registers the
    model and promotes it if nothing is promoted yet. Returns the evaluation and the version
    (``register=False``: the evaluation only; nothing is logged or registered).

    With ``refit_on_all_hours`` the registered LightGBM model is then fitted again, the same way, on
    every labelled hour (all units, the whole history): the table judges the procedure on the split,
    and scoring uses it with all the failures the history holds.

    Two models from the same split: the LightGBM classifier + regressor (the registered pyfunc that
    07_score loads) and the RUL LSTM over each unit's hourly sequences, logged in the same run as an
    artifact with its metrics, and judged in the same table."""
    p = config.predictions
    train, test_all, cut = _split(hourly, events, config)
    train, test_all = train.toPandas(), test_all.toPandas()
    test = test_all[test_all.hour_start >= pd.Timestamp(cut)].reset_index(drop=True)
    events_pd = events.toPandas()
    log.info("training on %d hours of %d units before %s; testing on %d units after it",
             len(train), train.compressor_id.nunique(), cut, test.compressor_id.nunique())  # fmt: skip
    boosters = fit(train, FEATURE_COLUMNS, fail_label=FAIL_LABEL, rul_label=RUL_LABEL)
    scored = pd.concat([test, boosters.predict(test)], axis=1)
    lstm = _fit_lstm(train, test_all, events_pd, cut, config)
    if lstm is not None:
        scored[RUL_LSTM] = lstm[2]
    table, leads, _ = evaluation_table(
        hourly.sparkSession,
        scored,
        events_pd,
        threshold_episodes(episodes),
        config,
        (pd.Timestamp(cut), test.hour_start.max()),
    )
    if not register:
        return {"model_name": p.model_name, "model_version": None, "evaluation": table.to_dict("records")}
    fitted = train
    if p.refit_on_all_hours:
        # Judged on the split, registered from every labelled hour: the held-out units and the time
        # after the cut hold a third of the failures, too many to leave out of what scoring uses.
        fitted = labelled_frame(hourly, events, config).toPandas()
        boosters = fit(fitted, FEATURE_COLUMNS, fail_label=FAIL_LABEL, rul_label=RUL_LABEL)
        log.info("refit on all %d labelled hours of %d units for registration",
                 len(fitted), fitted.compressor_id.nunique())  # fmt: skip
    version = _log_and_register(
        boosters,
        table,
        leads,
        config,
        train=train,
        test=test,
        fitted=fitted,
        data_source=data_source,
        lstm=None if lstm is None else lstm[:2],
    )
    if registry.production_version(p.model_name) is None:
        registry.promote(p.model_name, version)
    return {"model_name": p.model_name, "model_version": version, "evaluation": table.to_dict("records")}


def _fit_lstm(
    train: pd.DataFrame, test_all: pd.DataFrame, events: pd.DataFrame, cut: datetime, config: AltavizConfig
) -> tuple[FleetRul, dict, np.ndarray] | None:
    """The RUL LSTM fitted on the training rows (work orders as known at the cut), and its RUL for
    each test row after the cut; None, with a warning, when the training split is too small for it
    (LightGBM is still registered: the LSTM is judged beside it, never scored)."""
    started = time.monotonic()
    known = events[events.started_at < pd.Timestamp(cut)]  # as the CMMS showed them at the cut
    try:
        lstm, report = fit_fleet_lstm(train, known, rul_label=RUL_LABEL, rul_cap_hours=config.predictions.rul_cap_hours)
    except ValueError as err:
        log.warning("RUL LSTM not trained: %s", err)
        return None
    # The test units' own hours before the cut are the inputs of their first windows after it.
    predicted = lstm.predict(test_all, events)[test_all.hour_start >= pd.Timestamp(cut)].to_numpy()
    report["seconds_with_prediction"] = time.monotonic() - started
    log.info("RUL LSTM: %d training windows, best epoch %s, %.0f s", report["train_windows"],
             [m["best_epoch"] for m in report["members"]], report["seconds_with_prediction"])  # fmt: skip
    return lstm, report, predicted


def _log_and_register(
    boosters: Boosters,
    table: pd.DataFrame,
    leads: pd.DataFrame,
    config: AltavizConfig,
    *,
    train,
    test,
    data_source,
    fitted=None,
    lstm: tuple[FleetRul, dict] | None = None,
) -> str:
    """Logs the evaluation (of the models fitted on ``train``) and registers ``boosters``, fitted on
    ``fitted`` (default ``train``; every labelled hour with ``refit_on_all_hours``)."""
    fitted = train if fitted is None else fitted
    p = config.predictions
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"lightgbm_{p.horizon_hours:g}h") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({
            "data_source": data_source,
            "horizon_hours": p.horizon_hours,
            "rul_cap_hours": p.rul_cap_hours,
            "train_hours": len(train),
            "train_units": train.compressor_id.nunique(),
            "test_units": test.compressor_id.nunique(),
            "train_positive_hours": int((train[FAIL_LABEL] == True).sum()),  # noqa: E712
            "registered_fit_hours": len(fitted),
            "registered_fit_units": fitted.compressor_id.nunique(),
            "registered_fit_positive_hours": int((fitted[FAIL_LABEL] == True).sum()),  # noqa: E712
        })  # fmt: skip
        mlflow.log_metrics(_row_metrics(table, MODEL_SOURCE))
        folder = Path(tmp)
        if lstm is not None:
            _log_lstm(*lstm, table, folder / LSTM_ARTIFACTS)
        table.to_csv(folder / "evaluation.csv", index=False)
        leads.to_csv(folder / "lead_times.csv", index=False)
        mlflow.log_artifact(str(folder / "evaluation.csv"))
        mlflow.log_artifact(str(folder / "lead_times.csv"))
        info = mlflow.pyfunc.log_model(
            artifact_path="model",
            python_model=FailureModel(),
            artifacts=save(boosters, folder / "boosters"),
            registered_model_name=p.model_name,
            pip_requirements=PIP_REQUIREMENTS,
        )
        version = str(info.registered_model_version)
        client = mlflow.tracking.MlflowClient()
        # The evaluation travels with the version: visible in the registry (and Fabric's ML model item).
        client.set_model_version_tag(
            p.model_name, version, "evaluation", json.dumps(table.to_dict("records"), default=str)
        )
        client.set_model_version_tag(p.model_name, version, "mlflow_run_id", run.info.run_id)
    log.info("registered %s version %s", p.model_name, version)
    return version


def _row_metrics(table: pd.DataFrame, source: str, prefix: str = "") -> dict[str, float]:
    """One source's row of the evaluation table as MLflow metrics (its known numbers)."""
    row = table[table.source == source].iloc[0]
    return {f"{prefix}{k}": float(v) for k, v in row.items() if k != "source" and pd.notna(v)}


def _log_lstm(model: FleetRul, report: dict, table: pd.DataFrame, folder: Path) -> None:
    """The RUL LSTM in the active run: its settings, its row of the evaluation (``lstm_`` metrics),
    its training report and the fitted model (artifact folder ``lstm``)."""
    c = model.model.config
    mlflow.log_params({
        "lstm_window_hours": c.window,
        "lstm_units": ",".join(map(str, c.lstm_units)),
        "lstm_max_epochs": c.max_epochs,
        "lstm_validation_units": len(report["validation_units"]),
    })  # fmt: skip
    metrics = _row_metrics(table, LSTM_SOURCE, prefix="lstm_")
    metrics.update({
        "lstm_val_rmse_hours": report["val_rmse"],
        "lstm_val_mae_hours": report["val_mae"],
        "lstm_train_windows": report["train_windows"],
        "lstm_best_epoch": report["members"][0]["best_epoch"],
        "lstm_seconds": report["seconds_with_prediction"],
    })  # fmt: skip
    mlflow.log_metrics(metrics)
    model.save(folder)
    (folder / "report.json").write_text(json.dumps(report, default=str, indent=1))
    mlflow.log_artifacts(str(folder), artifact_path=LSTM_ARTIFACTS)


def load_lstm(model_name: str, version: str) -> FleetRul | None:
    """The RUL LSTM logged in the run of a registered model version; None for a version without one."""
    client = mlflow.tracking.MlflowClient()
    run_id = client.get_model_version(model_name, version).tags.get("mlflow_run_id")
    if not run_id or not any(a.path == LSTM_ARTIFACTS for a in client.list_artifacts(run_id)):
        return None
    return FleetRul.load(Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=LSTM_ARTIFACTS)))


def score(features: pd.DataFrame, model, version: str, config: AltavizConfig, scored_at: datetime) -> pd.DataFrame:
    """Predictions for the rows of ``features``: unit, hour, probability of failing within the
    horizon, predicted RUL, and which model version said so."""
    if features.empty:
        predicted = pd.DataFrame({PROBABILITY: pd.Series(dtype="float64"), RUL: pd.Series(dtype="float64")})
    else:
        predicted = model.predict(features.loc[:, list(FEATURE_COLUMNS)])
    return pd.DataFrame({
        "compressor_id": features.compressor_id.to_numpy(),
        "hour_start": features.hour_start.to_numpy(),
        "failure_probability_72h": predicted[PROBABILITY].to_numpy(),
        "rul_hours": predicted[RUL].to_numpy(),
        "model_name": config.predictions.model_name,
        "model_version": version,
        "scored_at": scored_at,
    })  # fmt: skip


def evaluate_predictions(
    predictions: DataFrame,
    hourly: DataFrame,
    events: DataFrame,
    episodes: DataFrame,
    config: AltavizConfig,
    lstm: FleetRul | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The comparison table over a lakehouse's stored ``gold_predictions`` (e.g. a fleet the model
    never saw), against its work orders and threshold episodes, over the whole scored period; with
    ``lstm``, also the RUL LSTM's row, predicted over the same hours. Returns the table, the lead
    times and the episodes judged (with their ``source``)."""
    p = config.predictions
    labels = to_labels(hourly, events, horizon_hours=p.horizon_hours, rul_cap_hours=p.rul_cap_hours)
    scored = (
        predictions.select(
            "compressor_id",
            "hour_start",
            F.col("failure_probability_72h").alias(PROBABILITY),
            F.col("rul_hours").alias(RUL),
        )
        .join(labels.select("compressor_id", "hour_start", FAIL_LABEL, RUL_LABEL), ["compressor_id", "hour_start"])
        .toPandas()
    )
    events_pd = events.toPandas()
    if lstm is not None:
        # Every running hour of the fleet is a window's input; the predicted hours are kept.
        features = labelled_frame(hourly, events, config).drop(FAIL_LABEL, RUL_LABEL, "is_censored").toPandas()
        features[RUL_LSTM] = lstm.predict(features, events_pd)
        scored = scored.merge(
            features.loc[:, ["compressor_id", "hour_start", RUL_LSTM]], on=["compressor_id", "hour_start"], how="left"
        )
    period = (scored.hour_start.min(), scored.hour_start.max())
    return evaluation_table(hourly.sparkSession, scored, events_pd, threshold_episodes(episodes), config, period)
