"""The LightGBM baseline: a failure-within-horizon classifier and a RUL regressor, fitted on the
native LightGBM API (no scikit-learn needed) and packaged as one ``mlflow.pyfunc`` model, which loads
the same way from a local MLflow store and from Fabric's built-in MLflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import mlflow.pyfunc
import numpy as np
import pandas as pd

PROBABILITY = "failure_probability"
RUL = "rul_hours_predicted"

# Small, regularised trees: a few thousand positive hours per history fleet, two cores.
PARAMS = {
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "verbose": -1,
    "seed": 7,
}
ROUNDS = 300


@dataclass
class Boosters:
    classifier: lgb.Booster
    regressor: lgb.Booster
    features: tuple[str, ...]

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        x = frame.loc[:, list(self.features)].astype("float64").to_numpy()
        return pd.DataFrame(
            {
                PROBABILITY: self.classifier.predict(x),
                RUL: np.clip(self.regressor.predict(x), 0.0, None),
            },
            index=frame.index,
        )


def fit(train: pd.DataFrame, features: tuple[str, ...], *, fail_label: str, rul_label: str) -> Boosters:
    """Fits both models on the labelled rows of ``train`` (censored rows have a null label and sit out)."""

    def dataset(label: str) -> tuple[np.ndarray, np.ndarray]:
        rows = train[train[label].notna()]
        return rows.loc[:, list(features)].astype("float64").to_numpy(), rows[label].astype("float64").to_numpy()

    x_cls, y_cls = dataset(fail_label)
    x_rul, y_rul = dataset(rul_label)
    if y_cls.sum() == 0:
        raise ValueError("no labelled failure hours to learn from: the training history holds no failure")
    classifier = lgb.train({**PARAMS, "objective": "binary"}, lgb.Dataset(x_cls, y_cls), ROUNDS)
    regressor = lgb.train({**PARAMS, "objective": "regression_l1"}, lgb.Dataset(x_rul, y_rul), ROUNDS)
    return Boosters(classifier, regressor, tuple(features))


def save(boosters: Boosters, folder: Path) -> dict[str, str]:
    """Writes the boosters and the feature list; returns them as pyfunc artifacts."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "classifier": folder / "classifier.txt",
        "regressor": folder / "regressor.txt",
        "features": folder / "features.json",
    }
    boosters.classifier.save_model(str(paths["classifier"]))
    boosters.regressor.save_model(str(paths["regressor"]))
    paths["features"].write_text(json.dumps(list(boosters.features)))
    return {name: str(path) for name, path in paths.items()}


def load(artifacts: dict[str, str]) -> Boosters:
    return Boosters(
        lgb.Booster(model_file=artifacts["classifier"]),
        lgb.Booster(model_file=artifacts["regressor"]),
        tuple(json.loads(Path(artifacts["features"]).read_text())),
    )


class FailureModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper: feature columns in, ``failure_probability`` and ``rul_hours_predicted`` out."""

    def load_context(self, context) -> None:
        self._boosters = load(context.artifacts)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return self._boosters.predict(model_input)
