"""The fleet's RUL LSTM: ``sequence.py``'s trainer over sequences of each unit's hourly features.

A sequence is one run of a unit between two work orders (a repair resets the unit, so no window mixes
the hours before a work order with the hours after it), in time order, over the same running hours and
``FEATURE_COLUMNS`` the LightGBM model sees. Each step is labelled with the censoring-aware
``rul_hours`` of ``labels.py``: a censored hour (null label) labels no training window, a unit with
no labelled hour trains nothing; its features may still be the inputs of a window ending later.

Everything learned from data is fitted on the training rows only (training units before the time
cut): the outlier limits and medians that clean the features, the min-max scaler, the weights; early
stopping watches a share of the training *units* (by unit, never by row). Kept small (24 h windows,
one LSTM layer of 32, early stopping) so it adds a few minutes to ``06_train`` on two cores.

The LSTM predicts RUL only. Its warnings, for the comparison with the LightGBM classifier and the
limits, come from the RUL: ``warning_probability`` maps a predicted RUL at the horizon to
``warn_probability``, so the same latch as the model alerts opens a warning when RUL < horizon.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from altaviz.predict.features import FEATURE_COLUMNS
from altaviz.predict.sequence import (
    MinMaxScaler,
    SequenceRulModel,
    TrainConfig,
    UnitSeries,
    _keras,
    config_from_dict,
    fit_sequence_rul,
    step_windows,
)

log = logging.getLogger("altaviz.predict.lstm")

RUL_LSTM = "rul_hours_predicted_lstm"
# Small: the history fleet gives a few thousand labelled windows (most hours are censored at a 336 h
# cap), an epoch takes well under a second on two cores after JAX compiles. MAE loss (the median, as
# LightGBM's regression_l1): on the history fleet's validation units it beat MSE and Huber, and a
# 48 h window, a smaller or more dropped-out layer and 3-member ensembles did not help.
FLEET_CONFIG = TrainConfig(
    window=24,
    lstm_units=(32,),
    dense_units=16,
    dropout=0.1,
    batch_size=256,
    learning_rate=2e-3,
    max_epochs=60,
    patience=8,
    members=1,
    seed=0,
    every_step=True,
    loss="mae",
)
VAL_FRACTION = 0.2


@dataclass
class Cleaner:
    """Per feature: limits far outside the training rows' 0.1-99.9 % range (a flow near zero makes
    horsepower per flow explode; a degradation signal stays well within them) and the median that
    fills a missing value (no baseline yet, a slope over one hour). Fitted on training rows only."""

    low: np.ndarray
    high: np.ndarray
    median: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Cleaner:
        lo, hi, med = np.nanpercentile(x, [0.1, 99.9, 50.0], axis=0)
        span = np.nan_to_num(hi - lo)
        low, high, median = (np.nan_to_num(v) for v in (lo - span, hi + span, med))
        return cls(low, high, median)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.where(np.isfinite(x), x, np.nan)
        return np.clip(np.where(np.isnan(x), self.median, x), self.low, self.high)


def _matrix(frame: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    return frame.loc[:, list(features)].astype("float64").to_numpy()


def sequences(frame: pd.DataFrame, events: pd.DataFrame) -> list[np.ndarray]:
    """Positions (into ``frame``) of each sequence: one unit's hours in time order between two of
    its work orders. Never two units, never across a work order."""
    frame = frame.reset_index(drop=True)
    out = []
    for unit, rows in frame.groupby("compressor_id", sort=True):
        rows = rows.sort_values("hour_start")
        starts = np.sort(events.loc[events.compressor_id == unit, "started_at"].to_numpy(dtype="datetime64[ns]"))
        segment = np.searchsorted(starts, rows.hour_start.to_numpy(dtype="datetime64[ns]"), side="right")
        for s in np.unique(segment):
            out.append(rows.index.to_numpy()[segment == s])
    return out


def to_series(
    frame: pd.DataFrame, events: pd.DataFrame, x: np.ndarray, label: str | None
) -> tuple[list[UnitSeries], list[np.ndarray], list[str]]:
    """The sequences of ``frame`` as UnitSeries (cleaned features ``x``, rows of ``frame``; RUL from
    ``label`` with NaN where censored), their row positions and their units."""
    frame = frame.reset_index(drop=True)
    series, positions, units = [], [], []
    for i, pos in enumerate(sequences(frame, events)):
        rul = frame[label].to_numpy(dtype="float64")[pos] if label else None
        series.append(UnitSeries(i, x[pos], rul))
        positions.append(pos)
        units.append(str(frame.compressor_id.iloc[pos[0]]))
    return series, positions, units


@dataclass
class FleetRul:
    """Cleaner, scaler and LSTM(s): predicts each row's RUL in hours from the window ending at it."""

    cleaner: Cleaner
    model: SequenceRulModel
    features: tuple[str, ...] = FEATURE_COLUMNS

    def predict(self, frame: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
        """RUL (hours, capped) of every row of ``frame``, aligned to its index. ``frame`` holds each
        unit's earlier hours too where they exist: they are the context of its first windows."""
        out = np.full(len(frame), np.nan)
        if len(frame):
            x = self.model.scaler.transform(self.cleaner.transform(_matrix(frame, self.features)))
            series, positions, _ = to_series(frame, events, x, None)
            windows = np.concatenate([step_windows(u.features, self.model.config.window) for u in series])
            out[np.concatenate(positions)] = self.model.predict_windows(windows)
        return pd.Series(out, index=frame.index, name=RUL_LSTM)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(
            folder / "preprocessing.npz",
            low=self.cleaner.low,
            high=self.cleaner.high,
            median=self.cleaner.median,
            scaler_min=self.model.scaler.min_,
            scaler_span=self.model.scaler.span_,
        )
        (folder / "config.json").write_text(
            json.dumps({"train_config": asdict(self.model.config), "features": list(self.features)})
        )
        for k, member in enumerate(self.model.members):
            member.save(folder / f"member_{k}.keras")
        return folder

    @classmethod
    def load(cls, folder: Path) -> FleetRul:
        keras = _keras()
        meta = json.loads((folder / "config.json").read_text())
        config = config_from_dict(meta["train_config"])
        arrays = np.load(folder / "preprocessing.npz")
        scaler = MinMaxScaler()
        scaler.min_, scaler.span_ = arrays["scaler_min"], arrays["scaler_span"]
        members = [keras.saving.load_model(folder / f"member_{k}.keras") for k in range(config.members)]
        return cls(
            Cleaner(arrays["low"], arrays["high"], arrays["median"]),
            SequenceRulModel(config, scaler, members),
            tuple(meta["features"]),
        )


def validation_units(units: list[str], fraction: float, seed: int) -> set[str]:
    """A share of the training units (never rows) that only watches early stopping."""
    ids = sorted(set(units))
    n = max(1, round(len(ids) * fraction)) if len(ids) > 1 else 0
    return set(np.random.default_rng(seed).choice(ids, size=n, replace=False).tolist()) if n else set()


def fit_fleet_lstm(
    train: pd.DataFrame,
    events: pd.DataFrame,
    *,
    rul_label: str,
    rul_cap_hours: float,
    config: TrainConfig = FLEET_CONFIG,
    features: tuple[str, ...] = FEATURE_COLUMNS,
) -> tuple[FleetRul, dict]:
    """Fits on the rows of ``train`` (training units before the cut, with their censoring-aware RUL)
    and ``events`` (the work orders known at the cut, which only delimit sequences)."""
    if config.smoothing:
        raise ValueError("the fleet RUL LSTM does not smooth its inputs (FleetRul.predict scales raw features)")
    config = replace(config, rul_cap=float(rul_cap_hours))
    train = train.reset_index(drop=True)
    x = _matrix(train, features)
    cleaner = Cleaner.fit(x)
    series, _, units = to_series(train, events, cleaner.transform(x), rul_label)
    labelled = {u for s, u in zip(series, units, strict=True) if np.isfinite(s.rul).any()}
    val_units = validation_units(sorted(labelled), VAL_FRACTION, config.seed)
    if not val_units or not labelled - val_units:
        raise ValueError(f"the RUL LSTM needs two training units with labelled hours, found {len(labelled)}")
    fit_set = [s for s, u in zip(series, units, strict=True) if u not in val_units]
    val_set = [s for s, u in zip(series, units, strict=True) if u in val_units and np.isfinite(s.rul).any()]
    model, report = fit_sequence_rul(fit_set, val_set, config, log=log.info)
    report["validation_units"] = sorted(val_units)
    return FleetRul(cleaner, model, tuple(features)), report


def warning_probability(rul_hours: pd.Series, *, horizon_hours: float, warn_probability: float) -> pd.Series:
    """A failure 'probability' from a predicted RUL for the model-alert latch: ``warn_probability``
    at RUL = horizon, 1 at RUL 0, falling linearly to 0 (the clear and critical levels follow)."""
    scale = horizon_hours / (1.0 - warn_probability)
    return (1.0 - rul_hours / scale).clip(0.0, 1.0)
