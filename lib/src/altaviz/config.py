"""The one typed loader for altaviz.yaml: fleet, simulation, thresholds, alert and validation rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

SENSOR_COLUMNS = (
    "vibration_mms",
    "discharge_temp_f",
    "suction_pressure_psi",
    "discharge_pressure_psi",
    "horsepower",
    "gas_flow_mcf",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Station(_Strict):
    station_id: str
    name: str
    basin: str
    city: str
    latitude: float = Field(ge=25.0, le=37.0)
    longitude: float = Field(ge=-107.0, le=-93.0)


class CompressorModel(_Strict):
    model: str
    rated_horsepower: int = Field(gt=0)


class Climate(_Strict):
    annual_mean_f: float
    seasonal_amplitude_f: float = Field(ge=0)
    diurnal_amplitude_f: float = Field(ge=0)


class Fleet(_Strict):
    stations: tuple[Station, ...] = Field(min_length=1)
    models: tuple[CompressorModel, ...] = Field(min_length=1)
    basins: dict[str, Climate]

    @model_validator(mode="after")
    def _every_basin_has_a_climate(self) -> Fleet:
        missing = sorted({s.basin for s in self.stations} - set(self.basins))
        if missing:
            raise ValueError(f"fleet.basins lacks the climate of {missing}; present: {sorted(self.basins)}")
        return self


FailureMode = Literal["valve", "piston_rings", "bearing", "cooler", "driver"]
SensorFaultKind = Literal["stuck", "drift", "dropout", "spike", "wrong_unit"]


class FailureSpec(_Strict):
    compressor_id: str
    degradation_start_day: float = Field(ge=0)
    failure_day: float
    failure_mode: FailureMode = "bearing"
    repair_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _failure_after_onset(self) -> FailureSpec:
        if self.failure_day <= self.degradation_start_day:
            raise ValueError(
                f"{self.compressor_id}: failure_day ({self.failure_day}) must come after "
                f"degradation_start_day ({self.degradation_start_day})"
            )
        return self


class SensorFaultSpec(_Strict):
    compressor_id: str
    kind: SensorFaultKind
    start_day: float = Field(ge=0)
    hours: float = Field(default=0.0, ge=0)
    sensor: str | None = None
    other_unit: str | None = None

    @model_validator(mode="after")
    def _what_the_kind_needs(self) -> SensorFaultSpec:
        if self.kind in ("stuck", "drift", "spike") and self.sensor not in SENSOR_COLUMNS:
            raise ValueError(
                f"a {self.kind} fault names its sensor, one of {list(SENSOR_COLUMNS)}; got {self.sensor!r}"
            )
        if self.kind in ("stuck", "drift", "dropout") and self.hours <= 0:
            raise ValueError(f"a {self.kind} fault lasts some hours; got hours={self.hours}")
        if self.kind == "wrong_unit" and not self.other_unit:
            raise ValueError("a wrong_unit fault names other_unit, the unit its reading is wrongly labelled as")
        return self


class Simulation(_Strict):
    n_compressors: int = Field(gt=0, le=100_000)
    n_stations: int = Field(gt=0, le=10_000)
    days: float = Field(gt=0, le=3660)
    interval_minutes: int = Field(gt=0, le=1440)
    seed: int
    epoch: datetime | None = None
    failures: tuple[FailureSpec, ...] = ()
    failure_rate_per_unit_year: float = Field(ge=0, le=100)
    failure_mode_shares: dict[FailureMode, float]
    caught_by_maintenance_fraction: float = Field(ge=0, le=1)
    preventive_maintenance_interval_days: float = Field(gt=0)
    idle_periods_per_unit_year: float = Field(ge=0, le=365)
    sensor_faults_per_unit_year: float = Field(ge=0, le=365)
    sensor_faults: tuple[SensorFaultSpec, ...] = ()

    @model_validator(mode="after")
    def _shares_are_a_distribution(self) -> Simulation:
        if not self.failure_mode_shares or any(v < 0 for v in self.failure_mode_shares.values()):
            raise ValueError("failure_mode_shares needs at least one mode and no negative share")
        if abs(sum(self.failure_mode_shares.values()) - 1.0) > 1e-6:
            raise ValueError(f"failure_mode_shares must sum to 1, got {sum(self.failure_mode_shares.values())}")
        return self

    @model_validator(mode="after")
    def _epoch_in_utc(self) -> Simulation:
        if self.epoch is not None and self.epoch.tzinfo is None:
            object.__setattr__(self, "epoch", self.epoch.replace(tzinfo=UTC))
        return self


class Threshold(_Strict):
    direction: Literal["high", "low"]
    warning: float
    critical: float
    unit: str

    @model_validator(mode="after")
    def _critical_beyond_warning(self) -> Threshold:
        beyond = self.critical > self.warning if self.direction == "high" else self.critical < self.warning
        if not beyond:
            raise ValueError(
                f"critical ({self.critical}) must lie beyond warning ({self.warning}) for a '{self.direction}' limit"
            )
        return self


class AlertRules(_Strict):
    clear_margin_fraction: float = Field(ge=0, lt=1)
    running_min_load_fraction: float = Field(gt=0, lt=1)


class Range(_Strict):
    min: float
    max: float


class Validation(_Strict):
    ranges: dict[str, Range]
    outlier_sigma: float = Field(gt=0)
    outlier_stats_hours: int = Field(gt=0, le=24 * 30)
    outlier_min_readings: int = Field(ge=2)
    outlier_neighbour_gap_minutes: float = Field(gt=0)
    future_tolerance_minutes: float = Field(ge=0)
    stuck_readings: int = Field(ge=3, le=50)

    @model_validator(mode="after")
    def _every_sensor_has_a_range(self) -> Validation:
        missing = sorted(set(SENSOR_COLUMNS) - set(self.ranges))
        if missing:
            raise ValueError(f"validation.ranges lacks sensors {missing}; present: {sorted(self.ranges)}")
        return self


class Windows(_Strict):
    reading_interval_minutes: int = Field(gt=0)
    freshness_warning_minutes: float = Field(gt=0)


# Delta's default retention is the floor: VACUUM below it could delete files a running reader or
# stream still needs.
MIN_VACUUM_RETENTION_HOURS = 168


class LakehouseSettings(_Strict):
    vacuum_retention_hours: int = Field(ge=MIN_VACUUM_RETENTION_HOURS)


class HistoryFleet(_Strict):
    """The simulated history fleet the first training run learns from when no model is registered
    (ten units and two failures are too few to learn from)."""

    n_compressors: int = Field(gt=0, le=10_000)
    days: float = Field(gt=0, le=3660)
    failure_rate_per_unit_year: float = Field(ge=0, le=100)
    seed: int


class Predictions(_Strict):
    model_name: str = Field(min_length=1)
    horizon_hours: float = Field(gt=0)
    rul_cap_hours: float = Field(gt=0)
    baseline_days: float = Field(gt=0)
    warn_probability: float = Field(gt=0, lt=1)
    clear_probability: float = Field(gt=0, lt=1)
    critical_probability: float = Field(gt=0, lt=1)
    min_warning_hours: int = Field(ge=1)
    test_unit_fraction: float = Field(gt=0, lt=1)
    train_time_fraction: float = Field(gt=0, lt=1)
    refit_on_all_hours: bool = False
    history: HistoryFleet

    @model_validator(mode="after")
    def _clear_below_warn(self) -> Predictions:
        if self.clear_probability >= self.warn_probability:
            raise ValueError("predictions.clear_probability must lie below warn_probability (hysteresis)")
        if self.critical_probability < self.warn_probability:
            raise ValueError("predictions.critical_probability must be at least warn_probability")
        if self.rul_cap_hours < self.horizon_hours:
            raise ValueError("predictions.rul_cap_hours must be at least horizon_hours")
        return self


class AltavizConfig(_Strict):
    fleet: Fleet
    simulation: Simulation
    thresholds: dict[str, Threshold]
    alerts: AlertRules
    validation: Validation
    windows: Windows
    lakehouse: LakehouseSettings
    predictions: Predictions

    @model_validator(mode="after")
    def _thresholds_name_sensors(self) -> AltavizConfig:
        unknown = sorted(set(self.thresholds) - set(SENSOR_COLUMNS))
        if unknown:
            raise ValueError(f"thresholds name unknown sensors {unknown}; sensors are {list(SENSOR_COLUMNS)}")
        return self


def load_config(path: str | os.PathLike[str] | None = None) -> AltavizConfig:
    """Load and validate the configuration.

    ``path`` wins, then the ``ALTAVIZ_CONFIG`` environment variable, then the defaults packaged
    in the wheel (so a Fabric notebook needs no file of its own).
    """
    chosen = path or os.environ.get("ALTAVIZ_CONFIG")
    if chosen:
        text = Path(chosen).read_text(encoding="utf-8")
    else:
        text = resources.files("altaviz").joinpath("conf/altaviz.yaml").read_text(encoding="utf-8")
    return AltavizConfig.model_validate(yaml.safe_load(text))
