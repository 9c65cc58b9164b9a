"""NASA C-MAPSS FD001 through the sequence-RUL trainer: a public yardstick for the fleet's RUL LSTM.

Files (``train_FD001.txt``, ``test_FD001.txt``): space-separated, no header, 26 columns — unit, cycle,
3 operational settings, 21 sensors. Training engines run to failure; test engines stop some cycles
before it. The true test RULs are deliberately not read (not shipped): models are chosen on a
validation split of the training engines, by engine.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from altaviz.predict.sequence import (
    SequenceRulModel,
    TrainConfig,
    UnitSeries,
    fit_sequence_rul,
    nasa_score,
    piecewise_rul,
    refit_sequence_rul,
    rmse,
    split_units,
)

COLUMNS = ["unit", "cycle", *(f"setting_{i}" for i in range(1, 4)), *(f"sensor_{i}" for i in range(1, 22))]
N_TEST_UNITS = 100
# The benchmark's defaults (the fleet has its own, lstm.FLEET_CONFIG), chosen on validation (see
# benchmarks/README.md): z-scored sensors, causally smoothed (weight 0.1 on the newest cycle), and an
# ensemble of 5 CNNs (Li et al.'s DCNN shape) and 2 LSTMs (members c, c, l, c, c, l, c).
CMAPSS_CONFIG = TrainConfig(
    scaling="zscore",
    smoothing=0.1,
    architectures=("cnn", "cnn", "lstm"),
    members=7,
    max_epochs=60,
    patience=15,
)


def read_cmapss(path: Path) -> np.ndarray:
    """Rows of one C-MAPSS text file as [rows, 26] floats, sorted by unit then cycle."""
    rows = np.loadtxt(path, dtype=np.float64, ndmin=2)
    if rows.shape[1] != len(COLUMNS):
        raise ValueError(f"{path}: {rows.shape[1]} columns, C-MAPSS has {len(COLUMNS)}")
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def informative_sensors(train: np.ndarray, min_distinct: int = 3) -> list[str]:
    """Sensors that vary on the training rows. FD001 has one operating condition, so the settings
    are noise and are left out; sensors with fewer than ``min_distinct`` values (1, 5, 6, 10, 16, 18,
    19 in FD001) carry no degradation signal. FD001 keeps the literature's 14: 2, 3, 4, 7, 8, 9, 11,
    12, 13, 14, 15, 17, 20, 21."""
    keep = []
    for i, name in enumerate(COLUMNS):
        if name.startswith("sensor_") and len(np.unique(train[:, i])) >= min_distinct:
            keep.append(name)
    return keep


def to_units(rows: np.ndarray, features: list[str], run_to_failure: bool) -> list[UnitSeries]:
    """One UnitSeries per engine; a run-to-failure engine's RUL at a cycle is its last cycle minus it."""
    cols = [COLUMNS.index(f) for f in features]
    units = []
    for unit in np.unique(rows[:, 0]).astype(int):
        r = rows[rows[:, 0] == unit]
        rul = (r[:, 1].max() - r[:, 1]) if run_to_failure else None
        units.append(UnitSeries(int(unit), r[:, cols], rul))
    return units


def cut_like_test(units: list[UnitSeries], cuts: int, seed: int, min_length: int = 31) -> list[UnitSeries]:
    """Each engine cut at ``cuts`` random cycles, as the test engines are (FD001 test engines have
    31-303 cycles): scoring the last window of these copies estimates the test protocol on validation."""
    rng = np.random.default_rng(seed)
    out = []
    for u in units:
        for length in rng.integers(min(min_length, len(u.features)), len(u.features) + 1, size=cuts):
            out.append(UnitSeries(u.unit, u.features[:length], u.rul[:length]))
    return out


def run_benchmark(
    data_dir: Path,
    out: Path,
    config: TrainConfig | None = None,
    val_fraction: float = 0.2,
    train_units: int | None = None,
    refit: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """Trains on train_FD001 (``train_units`` first engines if given), validates on a split by engine,
    writes ``unit,rul`` for every test engine to ``out`` and returns the report. ``refit``: the test
    predictions come from the same members refitted on every training engine for the epochs
    validation chose; the validation figures stay those of the fit without the validation engines."""
    config = config or CMAPSS_CONFIG
    started = time.monotonic()
    train_rows = read_cmapss(data_dir / "train_FD001.txt")
    test_rows = read_cmapss(data_dir / "test_FD001.txt")
    features = informative_sensors(train_rows)
    engines = to_units(train_rows, features, run_to_failure=True)
    if train_units is not None:
        engines = engines[:train_units]
    train_ids, val_ids = split_units([u.unit for u in engines], val_fraction, config.seed)
    train = [u for u in engines if u.unit in set(train_ids)]
    val = [u for u in engines if u.unit in set(val_ids)]
    log(f"features: {', '.join(features)}; validation engines: {val_ids}")
    model, report = fit_sequence_rul(train, val, config, log)

    # The test protocol on validation engines: last window of engines cut before failure.
    cut = cut_like_test(val, cuts=10, seed=config.seed)
    truth = np.array([piecewise_rul(u.rul[-1:], config.rul_cap)[0] for u in cut])
    pred = model.predict_last(cut)
    report.update(
        val_cut_rmse=rmse(pred, truth),
        val_cut_mae=float(np.mean(np.abs(pred - truth))),
        val_cut_score_per_engine=nasa_score(pred, truth) / len(cut),
        features=features,
        train_units=train_ids,
        val_units=val_ids,
    )
    if refit:
        model = refit_sequence_rul(engines, config, [m["best_epoch"] for m in report["members"]], log)
    report["refit"] = refit
    test = to_units(test_rows, features, run_to_failure=False)
    write_predictions(out, model, test)
    report["seconds_total"] = time.monotonic() - started
    return report


def write_predictions(out: Path, model: SequenceRulModel, test: list[UnitSeries]) -> None:
    """``unit,rul`` per test engine, from its last window (engines shorter than the window are padded)."""
    units = sorted(u.unit for u in test)
    if units != list(range(1, N_TEST_UNITS + 1)):
        raise ValueError(f"test_FD001 should hold units 1-{N_TEST_UNITS}, found {len(units)} units")
    rul = model.predict_last(test)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["unit", "rul"])
        for u, r in zip([u.unit for u in test], rul, strict=True):
            w.writerow([u, f"{r:.2f}"])


def config_for(epochs: int | None, seed: int, members: int | None) -> TrainConfig:
    config = replace(CMAPSS_CONFIG, seed=seed)
    if epochs is not None:
        config = replace(config, max_epochs=epochs)
    if members is not None:
        config = replace(config, members=members)
    return config
