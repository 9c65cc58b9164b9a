"""One local Spark session per test run; small helpers for building frames."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from altaviz.config import AltavizConfig, load_config


@pytest.fixture(scope="session", autouse=True)
def shared_model_registry(tmp_path_factory):
    """Every pipeline run of the session scores with one MLflow registry (``make test`` passes its
    own): the first trains the model on the history fleet, the others reuse it."""
    os.environ.setdefault("MLFLOW_TRACKING_URI", tmp_path_factory.mktemp("mlflow").as_uri())


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    os.environ.setdefault("ALTAVIZ_SHUFFLE_PARTITIONS", "2")
    os.environ.setdefault("ALTAVIZ_SPARK_MEMORY", "2g")
    os.environ["ALTAVIZ_HOME"] = str(tmp_path_factory.mktemp("altaviz-home"))
    from altaviz.runtime import get_spark

    session = get_spark()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def config() -> AltavizConfig:
    return load_config()


def ts(text: str) -> datetime:
    """'2026-01-01 00:10' → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def silver_frame(spark, rows):
    """rows: (unit, aware or naive UTC datetime, vib[, temp, suction, discharge, hp, flow]) → silver
    rows; sensors left out take healthy values."""
    from altaviz.schemas import SILVER_SENSOR_READINGS

    out = []
    for i, row in enumerate(rows):
        unit, when, *values = row
        values = [*values, *(2.5, 250.0, 60.0, 1000.0, 1200.0, 9000.0)[len(values) :]]
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        out.append((unit, when, *values, f"r{i}", "s", when.date()))
    return spark.createDataFrame(out, SILVER_SENSOR_READINGS)
