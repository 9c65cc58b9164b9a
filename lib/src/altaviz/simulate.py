"""Seeded, reproducible fleet and sensor simulation, built as Spark columns (never row by row).

Every reading is a pure function of (seed, compressor, time since the fleet epoch): noise comes
from hashing those, so the output does not depend on partitioning, core count, where it runs or how
the days are cut into batches — thirty one-day batches land exactly the readings of one 30-day batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from altaviz.config import AltavizConfig, FailureSpec, Station
from altaviz.schemas import RAW_COMPRESSORS, RAW_SENSOR_READINGS, RAW_STATIONS

_BASELINES = (
    "unit int, compressor_id string, vib_base double, temp_base double, suction_base double, "
    "discharge_base double, hp_base double, flow_base double, phase double, onset_s double, failure_s double"
)

DAY_S = 86_400

# Where a failing unit's signals end up at the failure time (beyond the critical limits).
VIBRATION_AT_FAILURE_MMS = 9.5
DISCHARGE_TEMP_AT_FAILURE_F = 368.0


@dataclass(frozen=True)
class SimulationPlan:
    """Everything that decides the simulated batch; its hash names the batch."""

    epoch: datetime
    start: datetime
    days: float
    interval_minutes: int
    n_compressors: int
    n_stations: int
    seed: int
    failures: tuple[FailureSpec, ...]

    @property
    def n_steps(self) -> int:
        return int(round(self.days * 24 * 60 / self.interval_minutes))

    @property
    def batch_id(self) -> str:
        canonical = json.dumps(
            {
                "epoch": self.epoch.isoformat(),
                "start": self.start.isoformat(),
                "days": self.days,
                "interval": self.interval_minutes,
                "n": self.n_compressors,
                "stations": self.n_stations,
                "seed": self.seed,
                "failures": [f.model_dump() for f in self.failures],
            },
            sort_keys=True,
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
        return f"sim-{self.start:%Y%m%dT%H%M}-{digest}"


def compressor_id(index: int) -> str:
    return f"COMP-{index:03d}"


def fleet_stations(config: AltavizConfig, n_stations: int, seed: int) -> list[dict]:
    """The configured basin stations, then extra ones scattered around those hubs, round-robin."""
    rng = random.Random(seed)
    base: tuple[Station, ...] = config.fleet.stations
    stations = []
    for k in range(n_stations):
        hub = base[k % len(base)]
        ring = k // len(base)
        jitter = (rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6)) if ring else (0.0, 0.0)
        stations.append(
            {
                "station_id": f"STN-{k + 1:03d}",
                "station_name": hub.name if ring == 0 else f"{hub.city} {hub.basin} Station {ring + 1}",
                "basin": hub.basin,
                "city": hub.city,
                "latitude": round(hub.latitude + jitter[0], 4),
                "longitude": round(hub.longitude + jitter[1], 4),
            }
        )
    return stations


def fleet_compressors(config: AltavizConfig, n_compressors: int, stations: list[dict], seed: int) -> list[dict]:
    rng = random.Random(seed + 1)
    compressors = []
    for i in range(1, n_compressors + 1):
        model = config.fleet.models[rng.randrange(len(config.fleet.models))]
        compressors.append(
            {
                "compressor_id": compressor_id(i),
                "station_id": stations[(i - 1) % len(stations)]["station_id"],
                "model": model.model,
                "rated_horsepower": model.rated_horsepower,
                "install_date": date(2014, 1, 1) + timedelta(days=rng.randrange(0, 9 * 365)),
            }
        )
    return compressors


def _operating_baselines(compressors: list[dict], plan: SimulationPlan) -> list[dict]:
    """Per-unit healthy operating point, and its degradation window in epoch seconds (if scheduled).

    A unit's operating point depends on the seed and its place in the fleet only, so every batch
    continues the same unit, and a fleet grown by new units keeps the old ones as they were.
    """
    rng = random.Random(plan.seed + 2)
    epoch_s = plan.epoch.timestamp()
    schedule = {f.compressor_id: f for f in plan.failures}
    rows = []
    for idx, comp in enumerate(compressors):
        failure = schedule.get(comp["compressor_id"])
        rows.append(
            {
                "unit": idx,
                "compressor_id": comp["compressor_id"],
                "vib_base": rng.uniform(1.8, 3.0),
                "temp_base": rng.uniform(235.0, 265.0),
                "suction_base": rng.uniform(55.0, 75.0),
                "discharge_base": rng.uniform(980.0, 1120.0),
                "hp_base": comp["rated_horsepower"] * rng.uniform(0.72, 0.88),
                "flow_base": rng.uniform(8000.0, 12000.0),
                "phase": rng.uniform(0.0, 2 * math.pi),
                "onset_s": epoch_s + failure.degradation_start_day * DAY_S if failure else None,
                "failure_s": epoch_s + failure.failure_day * DAY_S if failure else None,
            }
        )
    return rows


def _gaussian(seed: int, tag: str) -> Column:
    """Standard normal noise from hashes of (seed, unit, time, tag): Box-Muller on two uniforms."""

    def uniform(salt: str) -> Column:
        h = F.xxhash64(F.lit(seed), F.col("unit"), F.col("ts_s"), F.lit(tag + salt))
        return (F.pmod(h, F.lit(1 << 53)).cast("double") + 0.5) / float(1 << 53)

    normal = F.sqrt(-2.0 * F.log(uniform("a"))) * F.cos(2 * math.pi * uniform("b"))
    # Bounded at 3σ, as field transmitters' spike filters do: healthy noise never looks like a 4σ fault.
    return F.least(F.greatest(normal, F.lit(-3.0)), F.lit(3.0))


def with_degradation_progress(df: DataFrame) -> DataFrame:
    """Adds ``progress``: 0 while healthy, rising linearly to 1 at failure, held at 1 after it."""
    raw = (F.col("ts_s") - F.col("onset_s")) / (F.col("failure_s") - F.col("onset_s"))
    progress = F.when(F.col("onset_s").isNull(), F.lit(0.0)).otherwise(F.least(F.greatest(raw, F.lit(0.0)), F.lit(1.0)))
    return df.withColumn("progress", progress)


def with_sensor_values(df: DataFrame, seed: int, epoch: datetime) -> DataFrame:
    """Physics-flavoured signals: vibration grows exponentially, temperature linearly, pressure oscillates."""
    hours = (F.col("ts_s") - F.lit(int(epoch.timestamp()))) / 3600.0
    line_pack = F.sin(2 * math.pi * hours / 12.0 + F.col("phase"))  # 12-hour pipeline pressure cycle
    diurnal = F.sin(2 * math.pi * (F.hour("timestamp") - 9) / 24.0)  # hottest mid-afternoon
    p = F.col("progress")
    vib_growth = F.log(F.lit(VIBRATION_AT_FAILURE_MMS) / F.col("vib_base"))
    return (
        df.withColumn("vibration_mms", F.col("vib_base") * F.exp(vib_growth * p) + 0.12 * _gaussian(seed, "vib"))
        .withColumn(
            "discharge_temp_f",
            F.col("temp_base")
            + 6.0 * diurnal
            + p * (F.lit(DISCHARGE_TEMP_AT_FAILURE_F) - F.col("temp_base"))
            + 1.5 * _gaussian(seed, "temp"),
        )
        .withColumn("suction_pressure_psi", F.col("suction_base") + 4.0 * line_pack + 1.0 * _gaussian(seed, "suc"))
        .withColumn(
            "discharge_pressure_psi",
            F.col("discharge_base") + 45.0 * line_pack - 120.0 * p + 6.0 * _gaussian(seed, "dis"),
        )
        .withColumn("horsepower", F.col("hp_base") * (1 + 0.03 * line_pack + 0.06 * p) + 8.0 * _gaussian(seed, "hp"))
        .withColumn(
            "gas_flow_mcf",
            F.col("flow_base") * (1 + 0.04 * line_pack) * (1 - 0.25 * p) + 80.0 * _gaussian(seed, "flow"),
        )
    )


def simulate_readings(spark: SparkSession, plan: SimulationPlan, compressors: list[dict]) -> DataFrame:
    """One row per compressor per interval, in the raw landing schema."""
    baselines = spark.createDataFrame(_operating_baselines(compressors, plan), _BASELINES)
    n_steps = plan.n_steps
    grid = (
        spark.range(0, len(compressors) * n_steps)
        .select((F.col("id") / n_steps).cast("int").alias("unit"), (F.col("id") % n_steps).alias("step"))
        .withColumn("ts_s", F.lit(int(plan.start.timestamp())) + F.col("step") * (plan.interval_minutes * 60))
        .withColumn("timestamp", F.timestamp_seconds("ts_s"))
    )
    readings = (
        grid.join(F.broadcast(baselines), "unit")
        .transform(with_degradation_progress)
        .transform(with_sensor_values, seed=plan.seed, epoch=plan.epoch)
    )
    # Three decimals, as transmitters report; rint on the scaled value (round() works in BigDecimal).
    rounded = [(F.rint(F.col(f.name) * 1000) / 1000).alias(f.name) for f in RAW_SENSOR_READINGS.fields[2:]]
    return readings.select("compressor_id", "timestamp", *rounded)


def ground_truth(plan: SimulationPlan) -> list[dict]:
    """Which unit degrades and fails when, for the degradations this batch's window overlaps: the
    answer key the alerts are judged against."""
    end = plan.start + timedelta(days=plan.days)
    truth = []
    for f in plan.failures:
        onset, failure = (
            plan.epoch + timedelta(days=f.degradation_start_day),
            plan.epoch + timedelta(days=f.failure_day),
        )
        if onset < end and failure >= plan.start:
            truth.append(
                {
                    "compressor_id": f.compressor_id,
                    "degradation_start": onset,
                    "failure_at": failure,
                    "batch_id": plan.batch_id,
                }
            )
    return truth


def stations_frame(spark: SparkSession, stations: list[dict]) -> DataFrame:
    return spark.createDataFrame(stations, RAW_STATIONS)


def compressors_frame(spark: SparkSession, compressors: list[dict]) -> DataFrame:
    return spark.createDataFrame(compressors, RAW_COMPRESSORS)
