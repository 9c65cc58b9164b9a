"""C-MAPSS FD001 through the sequence-RUL trainer: file format, windows, splits, scaling, a real small
run. The files are synthetic ones in NASA's format (the benchmark data lives outside the repository,
in ../shared, which a CI clone need not have): engines run to failure with a few sensors that drift
with wear and the FD001 constant sensors constant."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from altaviz.cli import app
from altaviz.predict.cmapss import COLUMNS, informative_sensors, read_cmapss, to_units
from altaviz.predict.sequence import (
    MinMaxScaler,
    SequenceRulModel,
    StandardScaler,
    TrainConfig,
    UnitSeries,
    build_model,
    config_from_dict,
    fit_sequence_rul,
    last_windows,
    make_scaler,
    make_windows,
    prepare,
    refit_sequence_rul,
    smooth,
    split_units,
)

# FD001's sensors that never vary (their 1-based numbers); the other 14 drift with wear here.
CONSTANT_SENSORS = (1, 5, 6, 10, 16, 18, 19)


def _write_engines(path: Path, lengths: list[int], *, truncate: bool, seed: int) -> None:
    """Engines in the 26-column format: unit, cycle, 3 settings, 21 sensors. Informative sensors
    drift toward failure (at cycle ``length``); a test file cuts each engine short."""
    rng = np.random.default_rng(seed)
    lines = []
    for unit, length in enumerate(lengths, start=1):
        shown = int(rng.integers(31, length)) if truncate else length
        for cycle in range(1, shown + 1):
            wear = cycle / length
            settings = rng.normal(0, 0.002, 3)
            sensors = [
                100.0 if s in CONSTANT_SENSORS else 500.0 + 10 * s + 20 * s * wear**2 + rng.normal(0, 0.5)
                for s in range(1, 22)
            ]
            lines.append(" ".join(f"{v:.4f}" for v in (unit, cycle, *settings, *sensors)) + " ")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cmapss")
    _write_engines(folder / "train_FD001.txt", [150 + 7 * i for i in range(8)], truncate=False, seed=0)
    _write_engines(folder / "test_FD001.txt", [120 + i for i in range(100)], truncate=True, seed=1)
    return folder


def _unit(unit: int, steps: int, n_features: int = 3) -> UnitSeries:
    # Feature 0 is the unit id, feature 1 the step: a window that mixes units or reorders steps shows.
    t = np.arange(steps, dtype=np.float64)
    feats = np.column_stack([np.full(steps, unit), t, *(np.sin(t + k) for k in range(n_features - 2))])
    return UnitSeries(unit, feats, (steps - 1 - t))


def test_reads_the_26_column_format_sorted_by_unit_and_cycle(tmp_path):
    rows = [[2, 1, *range(24)], [1, 2, *range(24)], [1, 1, *range(24)]]
    f = tmp_path / "train_FD001.txt"
    f.write_text("\n".join(" ".join(str(v) for v in r) + "  " for r in rows) + "\n")  # NASA's trailing blanks
    got = read_cmapss(f)
    assert got.shape == (3, 26) and len(COLUMNS) == 26
    assert got[:, :2].tolist() == [[1, 1], [1, 2], [2, 1]]
    f.write_text("1 1 0.5\n")
    with pytest.raises(ValueError, match="columns"):
        read_cmapss(f)


def test_fd001_format_units_and_informative_sensors(data):
    train, test = read_cmapss(data / "train_FD001.txt"), read_cmapss(data / "test_FD001.txt")
    assert train.shape == (sum(150 + 7 * i for i in range(8)), 26)
    assert set(np.unique(train[:, 0])) == set(range(1, 9)) and set(np.unique(test[:, 0])) == set(range(1, 101))
    sensors = informative_sensors(train)
    assert [int(s.split("_")[1]) for s in sensors] == [2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 17, 20, 21]
    engines = to_units(train, sensors, run_to_failure=True)
    e1 = engines[0]
    assert e1.features.shape == (150, 14) and e1.rul[0] == 149 and e1.rul[-1] == 0
    # Test engines have no labels: make_windows refuses them, so none can reach training.
    tests = to_units(test, sensors, run_to_failure=False)
    assert all(u.rul is None for u in tests)
    with pytest.raises(ValueError, match="no RUL labels"):
        make_windows(tests[:1], 30, 125)


def test_windows_shapes_cap_and_no_window_spans_two_units():
    units = [_unit(1, 40), _unit(2, 200), _unit(3, 10)]
    x, y, ids = make_windows(units, window=30, cap=125)
    assert x.shape == ((40 - 29) + (200 - 29) + 1, 30, 3) and y.shape == ids.shape == (len(x),)
    assert y.max() == 125 and y.min() == 0
    np.testing.assert_array_equal(x[:, :, 0], ids[:, None] * np.ones((1, 30)))  # one unit per window
    steps = x[ids == 2][:, :, 1]
    assert (np.diff(steps, axis=1) == 1).all()  # consecutive steps in time order
    # Label = capped RUL at the window's last step; for unit 2 the cap binds early, then it's linear.
    np.testing.assert_array_equal(y[ids == 2], np.minimum(199 - steps[:, -1], 125))
    # The 10-step unit gives one window, front-padded with its first step.
    short = x[ids == 3][0]
    assert (short[:20, 1] == 0).all() and short[20:, 1].tolist() == list(range(10))
    assert y[ids == 3].tolist() == [0]
    last = last_windows(units, 30)
    assert last.shape == (3, 30, 3) and last[1, -1, 1] == 199 and last[1, 0, 1] == 170


def test_validation_split_is_by_unit_disjoint_and_deterministic():
    ids = list(range(1, 101))
    train, val = split_units(ids, 0.2, seed=0)
    assert len(val) == 20 and not set(train) & set(val) and sorted(train + val) == ids
    assert split_units(ids, 0.2, seed=0) == (train, val)
    assert split_units(ids, 0.2, seed=1)[1] != val


def test_scaler_is_fitted_on_training_units_only():
    train, val = [_unit(1, 50), _unit(2, 60)], [_unit(3, 300)]
    scaler, (x_tr, _), (x_va, _) = prepare(train, val, TrainConfig(window=30))
    rows = np.concatenate([u.features for u in train])
    np.testing.assert_allclose(scaler.min_, rows.min(axis=0))
    np.testing.assert_allclose(scaler.min_ + scaler.span_, rows.max(axis=0))
    assert x_tr.min() >= 0 and x_tr.max() <= 1
    assert x_va[:, :, 1].max() > 1  # a validation unit outside the training range stays outside
    constant = MinMaxScaler().fit([UnitSeries(1, np.ones((5, 2)))])
    assert np.isfinite(constant.transform(np.ones((1, 2)))).all()
    with pytest.raises(ValueError, match="both"):
        prepare(train, [_unit(2, 60)], TrainConfig())


def test_zscore_scaler_is_fitted_on_training_units_only():
    train, val = [_unit(1, 50), _unit(2, 60)], [_unit(3, 300)]
    scaler, (x_tr, _), (x_va, _) = prepare(train, val, TrainConfig(window=30, scaling="zscore"))
    assert isinstance(scaler, StandardScaler)
    rows = np.concatenate([u.features for u in train])
    np.testing.assert_allclose(scaler.min_, rows.mean(axis=0))
    np.testing.assert_allclose(scaler.span_, rows.std(axis=0))
    scaled = scaler.transform(rows)
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-5)
    assert np.isfinite(StandardScaler().fit([UnitSeries(1, np.ones((5, 2)))]).transform(np.ones((1, 2)))).all()
    assert type(make_scaler(TrainConfig())) is MinMaxScaler  # the default (and the fleet's) is unchanged
    with pytest.raises(ValueError, match="scaling"):
        make_scaler(TrainConfig(scaling="robust"))


def test_smoothing_is_causal_and_exponential():
    x = np.random.default_rng(0).normal(size=(50, 3))
    s = smooth(x, 0.3)
    np.testing.assert_allclose(s[0], x[0])
    np.testing.assert_allclose(s[1], 0.3 * x[1] + 0.7 * x[0])
    np.testing.assert_allclose(s[10], 0.3 * x[10] + 0.7 * s[9])
    # A step sees no later step: smoothing a unit cut short gives the prefix of the whole unit's.
    np.testing.assert_allclose(smooth(x[:20], 0.3), s[:20])
    assert s[1:].std() < x[1:].std()
    assert smooth(x, 0.0) is x
    # prepare smooths before it fits the scaler and windows; a model applies the same at prediction.
    config = TrainConfig(window=5, smoothing=0.5)
    unit = UnitSeries(1, x, np.arange(49, -1, -1.0))
    scaler, (x_tr, _), _ = prepare([unit], [], config)
    np.testing.assert_allclose(scaler.min_, smooth(x, 0.5).min(axis=0))
    np.testing.assert_allclose(x_tr[-1], scaler.transform(smooth(x, 0.5))[-5:], rtol=1e-5)
    model = SequenceRulModel(config, scaler)
    np.testing.assert_allclose(model.transform_units([unit])[0].features, scaler.transform(smooth(x, 0.5)))


def test_architectures_give_one_rul_per_window_and_unknown_ones_are_refused():
    config = TrainConfig(window=12, conv_filters=(4, 4), conv_kernel=3)
    x = np.zeros((3, 12, 5), dtype=np.float32)
    for architecture in ("lstm", "cnn"):
        net = build_model(5, config, architecture)
        assert net.predict(x, verbose=0).shape == (3, 1)
    assert any("conv1d" in layer.name for layer in build_model(5, config, "cnn").layers)
    with pytest.raises(ValueError, match="architecture"):
        build_model(5, config, "transformer")


def test_a_config_survives_json_and_an_older_one_takes_the_new_defaults():
    config = TrainConfig(architectures=("cnn", "lstm"), conv_filters=(4, 8), scaling="zscore", smoothing=0.2)
    assert config_from_dict(json.loads(json.dumps(asdict(config)))) == config
    old = {k: v for k, v in asdict(TrainConfig()).items() if k not in ("architectures", "smoothing", "scaling")}
    assert config_from_dict(json.loads(json.dumps(old))) == TrainConfig()


def test_mixed_ensemble_and_refit_on_every_unit():
    units = [_unit(u, 60 + 5 * u) for u in range(1, 6)]
    config = TrainConfig(
        window=10, lstm_units=(4,), dense_units=4, conv_filters=(4,), conv_kernel=3, conv_dense_units=4,
        max_epochs=2, members=2, architectures=("lstm", "cnn"), scaling="zscore", smoothing=0.3,
    )  # fmt: skip
    model, report = fit_sequence_rul(units[:4], units[4:], config, log=lambda m: None)
    assert [m["architecture"] for m in report["members"]] == ["lstm", "cnn"]
    refit = refit_sequence_rul(units, config, [m["best_epoch"] for m in report["members"]], log=lambda m: None)
    rows = np.concatenate([smooth(u.features, 0.3) for u in units])
    np.testing.assert_allclose(refit.scaler.min_, rows.mean(axis=0))  # the scaler now sees every unit
    assert len(refit.members) == 2 and refit.members[1].layers[0].name.startswith("conv1d")
    pred = refit.predict_last(units)
    assert pred.shape == (5,) and np.isfinite(pred).all() and (pred >= 0).all() and (pred <= config.rul_cap).all()
    with pytest.raises(ValueError, match="epoch counts"):
        refit_sequence_rul(units, config, [1], log=lambda m: None)


@pytest.mark.parametrize("refit", [False, True])
def test_small_real_run_through_the_cli_writes_a_rul_per_test_engine(tmp_path, data, refit):
    out = tmp_path / "fd001.csv"
    result = CliRunner().invoke(
        app,
        [
            "benchmark",
            "cmapss",
            "--out",
            str(out),
            "--data-dir",
            str(data),
            "--train-units",
            "6",
            "--epochs",
            "1",
            "--members",
            "3" if refit else "1",  # cnn, cnn, lstm
            *(["--refit"] if refit else []),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "validation RMSE" in result.output and "6 training units" not in result.output
    assert "5 training units" in result.output and "1 validation units" in result.output
    # The default ensemble cycles CNN, CNN, LSTM over its members.
    assert "(cnn, seed 0)" in result.output and ("(lstm, seed 2)" in result.output) == refit
    # The refit trains on the validation engine too, after validation has chosen the epochs.
    assert ("refit on all 6 units" in result.output) == refit
    assert ("members refitted on all training engines" in result.output) == refit
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["unit"]) for r in rows] == list(range(1, 101))
    rul = np.array([float(r["rul"]) for r in rows])
    assert np.isfinite(rul).all() and (rul >= 0).all() and (rul <= 125).all()


def test_missing_data_dir_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        app, ["benchmark", "cmapss", "--out", str(tmp_path / "x.csv"), "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2 and "train_FD001.txt" in result.output
