"""Sequence-RUL trainer: windows over each unit's time series, an ensemble of LSTMs and/or 1D CNNs, early
stopping on validation.

Data-source agnostic: a unit is a time-ordered feature matrix (cycles of a C-MAPSS engine, hours of a
compressor's ``gold_hourly_readings``) with, for training, the remaining useful life at each step.
Everything learned from data (the scaler, the weights, the stopping epoch) is fitted on the training
units only; validation units only pick the epoch, and never feed the scaler. Optional smoothing of the
inputs is causal (a step sees no later step), so it needs nothing fitted.

Keras 3 runs on the JAX backend (CPU): Fabric Runtime 2.0 has no deep-learning framework and the
``predict`` extra installs Keras + JAX from PyPI both there and here. Keras is imported lazily so the
windowing and scaling helpers work without it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class UnitSeries:
    """One unit's time series: ``features`` is [steps, features] in time order; ``rul`` the steps to
    failure. ``rul`` None: an unlabelled unit (nothing to train on); a NaN step in ``rul``: a censored
    step (its RUL is not known), which labels no training window but still feeds others' inputs."""

    unit: int
    features: np.ndarray
    rul: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.features.ndim != 2:
            raise ValueError(f"unit {self.unit}: features must be [steps, features], got {self.features.shape}")
        if self.rul is not None and len(self.rul) != len(self.features):
            raise ValueError(f"unit {self.unit}: {len(self.rul)} RUL labels for {len(self.features)} steps")


@dataclass(frozen=True)
class TrainConfig:
    window: int = 30
    rul_cap: float = 125.0  # piecewise-linear target: a healthy unit's RUL is not observable beyond this
    lstm_units: tuple[int, ...] = (64, 32)
    dense_units: int = 16
    dropout: float = 0.2
    batch_size: int = 256
    learning_rate: float = 1e-3
    max_epochs: int = 40
    patience: int = 10  # validation RMSE swings by a few cycles between epochs
    members: int = 1  # >1: an ensemble of differently seeded LSTMs; their mean is the prediction
    seed: int = 0
    every_step: bool = False  # True: a window ends at every step (front-padded), not only from step window-1 on
    loss: str = "mse"  # Keras loss on RUL / cap ("mae" fits the median, as LightGBM's regression_l1 does)
    scaling: str = "minmax"  # or "zscore": mean 0, standard deviation 1 on the training rows
    smoothing: float = 0.0  # >0: causal exponential smoothing of each unit's features, this weight on the newest step
    architectures: tuple[str, ...] = ("lstm",)  # member k is architectures[k % len]: "lstm" or "cnn"
    # "cnn" (after Li et al. 2018's DCNN): 1D convolutions over the window (same padding, ReLU), flattened,
    # dropout, a dense layer; its own head sizes, as it overfits sooner than the LSTM.
    conv_filters: tuple[int, ...] = (10, 10, 10, 10)
    conv_kernel: int = 10
    conv_dropout: float = 0.5
    conv_dense_units: int = 100


def config_from_dict(values: dict) -> TrainConfig:
    """A TrainConfig back from ``asdict`` through JSON (lists back to tuples); fields it lacks (a config
    saved before they existed) take their defaults."""
    return TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def piecewise_rul(rul: np.ndarray, cap: float) -> np.ndarray:
    """RUL label capped at ``cap``: constant while healthy, then linear down to 0 at failure."""
    return np.minimum(np.asarray(rul, dtype=np.float64), cap)


class MinMaxScaler:
    """Per-feature min-max scaling to [0, 1] on the rows of the units it is fitted on."""

    def __init__(self) -> None:
        self.min_: np.ndarray | None = None
        self.span_: np.ndarray | None = None

    def fit(self, units: Sequence[UnitSeries]) -> MinMaxScaler:
        rows = np.concatenate([u.features for u in units])
        self.min_ = rows.min(axis=0)
        span = rows.max(axis=0) - self.min_
        self.span_ = np.where(span > 0, span, 1.0)  # a constant feature maps to 0, not to NaN
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        if self.min_ is None:
            raise RuntimeError("MinMaxScaler.transform before fit")
        # Not clipped: a unit outside the training range (the point of a degradation signal) stays outside.
        return ((features - self.min_) / self.span_).astype(np.float32)

    def transform_units(self, units: Sequence[UnitSeries]) -> list[UnitSeries]:
        return [UnitSeries(u.unit, self.transform(u.features), u.rul) for u in units]


class StandardScaler(MinMaxScaler):
    """Per-feature z-score on the rows of the units it is fitted on. The same affine map as
    MinMaxScaler, ``(x - min_) / span_``, with ``min_`` the mean and ``span_`` the standard deviation,
    so a saved scaler is two arrays whichever the kind."""

    def fit(self, units: Sequence[UnitSeries]) -> StandardScaler:
        rows = np.concatenate([u.features for u in units])
        self.min_ = rows.mean(axis=0)
        std = rows.std(axis=0)
        self.span_ = np.where(std > 0, std, 1.0)
        return self


def make_scaler(config: TrainConfig) -> MinMaxScaler:
    if config.scaling not in ("minmax", "zscore"):
        raise ValueError(f"unknown scaling {config.scaling!r}: minmax or zscore")
    return StandardScaler() if config.scaling == "zscore" else MinMaxScaler()


def smooth(features: np.ndarray, alpha: float) -> np.ndarray:
    """Causal exponential smoothing down the steps of one unit: s[0] = x[0], s[t] = alpha x[t] +
    (1 - alpha) s[t-1]. Step t sees only steps <= t, so a window (or a unit cut short) smoothed here
    is what it would be at that step live. ``alpha`` 0 (or 1): unchanged."""
    if alpha <= 0 or alpha >= 1 or len(features) == 0:
        return features
    out = np.empty(features.shape, dtype=np.float64)
    out[0] = features[0]
    for t in range(1, len(features)):
        out[t] = alpha * features[t] + (1 - alpha) * out[t - 1]
    return out


def smooth_units(units: Sequence[UnitSeries], alpha: float) -> list[UnitSeries]:
    if alpha <= 0 or alpha >= 1:
        return list(units)
    return [UnitSeries(u.unit, smooth(u.features, alpha), u.rul) for u in units]


def _pad_front(features: np.ndarray, window: int) -> np.ndarray:
    """Repeats the first step in front of a series shorter than ``window`` (a unit seen only briefly)."""
    short = window - len(features)
    return np.concatenate([np.repeat(features[:1], short, axis=0), features]) if short > 0 else features


def make_windows(
    units: Sequence[UnitSeries], window: int, cap: float, *, every_step: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window of ``window`` steps within one unit, labelled with the capped RUL at its last step.

    Returns X [n, window, features], y [n] and the unit of each window. Windows never span two units;
    a unit shorter than ``window`` gives one front-padded window (``every_step``: every step ends a
    window, the first ``window - 1`` front-padded). A window whose last step's RUL is NaN (censored)
    is left out.
    """
    xs, ys, ids = [], [], []
    for u in units:
        if u.rul is None:
            raise ValueError(f"unit {u.unit} has no RUL labels to train on")
        feats = _pad_front(u.features, len(u.features) + window - 1 if every_step else window)
        rul = piecewise_rul(np.concatenate([np.full(len(feats) - len(u.rul), u.rul[0]), u.rul]), cap)
        view = np.lib.stride_tricks.sliding_window_view(feats, window, axis=0)  # [n, features, window]
        y = rul[window - 1 :]
        known = np.isfinite(y)
        xs.append(view.transpose(0, 2, 1)[known])
        ys.append(y[known])
        ids.append(np.full(int(known.sum()), u.unit))
    return (
        np.concatenate(xs).astype(np.float32),
        np.concatenate(ys).astype(np.float32),
        np.concatenate(ids),
    )


def step_windows(features: np.ndarray, window: int) -> np.ndarray:
    """One window ending at each step of one unit's series (front-padded): [steps, window, features],
    what a prediction at each step sees."""
    if len(features) == 0:
        return np.zeros((0, window, features.shape[1]), dtype=np.float32)
    feats = _pad_front(features, len(features) + window - 1)
    return np.lib.stride_tricks.sliding_window_view(feats, window, axis=0).transpose(0, 2, 1).astype(np.float32)


def last_windows(units: Sequence[UnitSeries], window: int) -> np.ndarray:
    """Each unit's most recent ``window`` steps (front-padded if shorter): what a prediction 'now' sees."""
    return np.stack([_pad_front(u.features, window)[-window:] for u in units]).astype(np.float32)


def split_units(units: Sequence[int], val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Disjoint train / validation unit lists: a split by unit, never by row, so no unit is in both."""
    ids = sorted(set(int(u) for u in units))
    n_val = max(1, round(len(ids) * val_fraction)) if len(ids) > 1 else 0
    val = sorted(np.random.default_rng(seed).choice(ids, size=n_val, replace=False).tolist())
    return [u for u in ids if u not in set(val)], val


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(true)) ** 2)))


def nasa_score(pred: np.ndarray, true: np.ndarray) -> float:
    """PHM08 score: late predictions (pred > true) cost more than early ones."""
    d = np.asarray(pred, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1, np.exp(d / 10.0) - 1)))


def _keras():
    # The backend is fixed at Keras' first import; everything here is pinned and tested on JAX.
    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "jax") != "jax":
        raise RuntimeError(f"keras is already imported with KERAS_BACKEND={os.environ['KERAS_BACKEND']}; need jax")
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    return keras


def build_model(n_features: int, config: TrainConfig, architecture: str = "lstm"):
    """One member; the output is RUL / cap. "lstm": stacked LSTM (64 → 32 by default) + a small dense
    layer. "cnn": 1D convolutions over the window, flattened, + a wider dense layer."""
    keras = _keras()
    layers = [keras.Input(shape=(config.window, n_features))]
    if architecture == "lstm":
        for i, units in enumerate(config.lstm_units):
            layers.append(keras.layers.LSTM(units, return_sequences=i < len(config.lstm_units) - 1))
            layers.append(keras.layers.Dropout(config.dropout))
        layers.append(keras.layers.Dense(config.dense_units, activation="relu"))
    elif architecture == "cnn":
        for filters in config.conv_filters:
            layers.append(keras.layers.Conv1D(filters, config.conv_kernel, padding="same", activation="relu"))
        layers += [keras.layers.Flatten(), keras.layers.Dropout(config.conv_dropout)]
        layers.append(keras.layers.Dense(config.conv_dense_units, activation="relu"))
    else:
        raise ValueError(f"unknown architecture {architecture!r}: lstm or cnn")
    layers.append(keras.layers.Dense(1))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=config.loss)
    return model


def _new_member(k: int, n_features: int, config: TrainConfig):
    """Ensemble member ``k``, untrained: its architecture and network, seeded with ``config.seed + k``
    (Python, NumPy and JAX: same seed, same weights and shuffles, in a fit and in its refit)."""
    _keras().utils.set_random_seed(config.seed + k)
    architecture = config.architectures[k % len(config.architectures)]
    return architecture, build_model(n_features, config, architecture)


@dataclass
class SequenceRulModel:
    """A fitted scaler and an ensemble of networks (LSTMs, CNNs); predicts capped RUL, in the units' own
    time steps."""

    config: TrainConfig
    scaler: MinMaxScaler
    members: list = field(default_factory=list)

    def predict_windows(self, x: np.ndarray) -> np.ndarray:
        """X already scaled and windowed → mean of the members, clipped to [0, cap]."""
        preds = [m.predict(x, batch_size=1024, verbose=0).reshape(-1) for m in self.members]
        return np.clip(np.mean(preds, axis=0) * self.config.rul_cap, 0.0, self.config.rul_cap)

    def transform_units(self, units: Sequence[UnitSeries]) -> list[UnitSeries]:
        """Raw units → model inputs: smoothed (if configured, causally), then scaled."""
        return self.scaler.transform_units(smooth_units(units, self.config.smoothing))

    def predict_last(self, units: Sequence[UnitSeries]) -> np.ndarray:
        """Capped RUL of each unit at its last step."""
        return self.predict_windows(last_windows(self.transform_units(units), self.config.window))


def prepare(
    train: Sequence[UnitSeries], val: Sequence[UnitSeries], config: TrainConfig
) -> tuple[MinMaxScaler, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The units smoothed (if configured), the scaler fitted on ``train`` only, then (X, y) windows of
    both sets scaled by it. ``val`` may be empty (a refit on every unit): its X and y are then empty."""
    if set(u.unit for u in train) & set(u.unit for u in val):
        raise ValueError("a unit is in both the training and the validation set")
    train, val = smooth_units(train, config.smoothing), smooth_units(val, config.smoothing)
    scaler = make_scaler(config).fit(train)
    x_tr, y_tr, _ = make_windows(
        scaler.transform_units(train), config.window, config.rul_cap, every_step=config.every_step
    )
    if not val:
        return scaler, (x_tr, y_tr), (x_tr[:0], y_tr[:0])
    x_va, y_va, _ = make_windows(
        scaler.transform_units(val), config.window, config.rul_cap, every_step=config.every_step
    )
    return scaler, (x_tr, y_tr), (x_va, y_va)


def fit_sequence_rul(
    train: Sequence[UnitSeries],
    val: Sequence[UnitSeries],
    config: TrainConfig = TrainConfig(),
    log: Callable[[str], None] = print,
) -> tuple[SequenceRulModel, dict]:
    """Fits the scaler on ``train`` only, then ``config.members`` LSTMs, each early-stopped on ``val``.

    Returns the model and a report: validation RMSE / MAE / NASA score over all validation windows,
    each member's best epoch, windows and seconds.
    """
    keras = _keras()
    scaler, (x_tr, y_tr), (x_va, y_va) = prepare(train, val, config)
    log(f"{len(train)} training units ({len(x_tr)} windows), {len(val)} validation units ({len(x_va)} windows)")
    model = SequenceRulModel(config, scaler)
    started = time.monotonic()
    report: dict = {"config": asdict(config), "members": []}
    for k in range(config.members):
        seed = config.seed + k
        architecture, net = _new_member(k, x_tr.shape[2], config)
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.patience, restore_best_weights=True, mode="min"
        )
        hist = net.fit(
            x_tr,
            y_tr / config.rul_cap,  # a target in [0, 1] trains faster than raw cycles
            validation_data=(x_va, y_va / config.rul_cap),
            epochs=config.max_epochs,
            batch_size=config.batch_size,
            shuffle=True,
            verbose=0,
            callbacks=[stop, _Progress(log, k, config, started)],
        )
        val_loss = hist.history["val_loss"]
        best = int(np.argmin(val_loss))
        member_rmse = rmse(
            np.clip(net.predict(x_va, batch_size=1024, verbose=0).reshape(-1), 0, 1) * config.rul_cap, y_va
        )
        report["members"].append(
            {"seed": seed, "architecture": architecture, "best_epoch": best + 1, "val_rmse": member_rmse}
        )
        log(
            f"member {k + 1}/{config.members} ({architecture}, seed {seed}): best epoch {best + 1}, "
            f"validation RMSE {member_rmse:.2f}"
        )
        model.members.append(net)
    pred = model.predict_windows(x_va)
    report.update(
        val_rmse=rmse(pred, y_va),
        val_mae=float(np.mean(np.abs(pred - y_va))),
        val_score=nasa_score(pred, y_va),
        train_windows=len(x_tr),
        val_windows=len(x_va),
        seconds=time.monotonic() - started,
    )
    return model, report


def refit_sequence_rul(
    units: Sequence[UnitSeries],
    config: TrainConfig,
    epochs: Sequence[int],
    log: Callable[[str], None] = print,
) -> SequenceRulModel:
    """Refits the scaler and every member on all of ``units`` (no unit held out), member k for
    ``epochs[k]`` epochs (the best epochs a validated fit chose), same seeds and architectures. Nothing
    is left to validate it on: quote the validated fit's figures for it."""
    if len(epochs) != config.members:
        raise ValueError(f"{len(epochs)} epoch counts for {config.members} members")
    scaler, (x_tr, y_tr), _ = prepare(units, [], config)
    log(f"refit on all {len(units)} units ({len(x_tr)} windows), epochs {list(epochs)}")
    model = SequenceRulModel(config, scaler)
    for k, n in enumerate(epochs):
        _, net = _new_member(k, x_tr.shape[2], config)
        net.fit(x_tr, y_tr / config.rul_cap, epochs=int(n), batch_size=config.batch_size, shuffle=True, verbose=0)
        model.members.append(net)
    return model


def _loss_text(loss: float, config: TrainConfig) -> str:
    """An epoch's loss in the units' own steps: RMSE for an MSE loss, MAE for an MAE loss."""
    if config.loss == "mse":
        return f"RMSE {np.sqrt(loss) * config.rul_cap:.2f}"
    return f"{config.loss.upper()} {loss * config.rul_cap:.2f}" if config.loss == "mae" else f"{config.loss} {loss:.4f}"


def _progress_callback_base():
    return _keras().callbacks.Callback


class _Progress:
    """Keras callback (created lazily so keras stays optional): one line per epoch with elapsed time."""

    def __new__(cls, log, member, config, started):
        base = _progress_callback_base()

        class Progress(base):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                log(
                    f"member {member + 1}/{config.members} epoch {epoch + 1}/{config.max_epochs}: "
                    f"train {_loss_text(logs.get('loss', np.nan), config)}, "
                    f"validation {_loss_text(logs.get('val_loss', np.nan), config)} "
                    f"({time.monotonic() - started:.0f} s)"
                )

        return Progress()
