"""Seeded, reproducible fleet simulation: reciprocating gas compressors with failure modes,
shutdowns, planned maintenance, idle periods, sensor faults and their operating context.

Two halves:

- **The event plan** (Python, per unit, small): degradations with their failure mode and outcome
  (a trip, or a corrective repair that caught it), downtimes (trip + repair, corrective repair,
  preventive maintenance, idle), and sensor faults. Each unit draws from its own random streams
  seeded by (seed, unit, kind), walking forward in time from the fleet epoch, so the events of a
  day are the same whichever batch asks for them.
- **The readings** (Spark columns, never row by row): each reading is a pure function of (seed,
  unit, time since the epoch) and the unit's events, so the output does not depend on partitioning,
  core count or how the days are cut into batches — thirty one-day batches land exactly the
  readings of one 30-day batch.

The maintenance work orders a CMMS would export (``maintenance_records``) and the answer key
(``ground_truth``) come from the same plan. Where each number comes from is said next to it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from altaviz.config import SENSOR_COLUMNS, AltavizConfig, FailureSpec, SensorFaultSpec, Station
from altaviz.schemas import (
    GROUND_TRUTH,
    RAW_COMPRESSORS,
    RAW_MAINTENANCE_EVENTS,
    RAW_SENSOR_READINGS,
    RAW_STATIONS,
)

DAY_S = 86_400
HOUR_S = 3_600
# Texas field time (CST) for the day/night cycle; daylight saving is ignored (one hour of phase).
LOCAL_UTC_OFFSET_H = -6
# Events are drawn this far past a batch's end, so a planned stop that straddles the end is judged
# against every degradation it could overlap, in every batch alike.
PLAN_MARGIN = timedelta(days=7)


@dataclass(frozen=True)
class ModeSignature:
    """How a failure mode develops. ``shape`` > 1: severity = progress ** shape, so the onset is
    smooth (no kink) and most of the change comes late, as wear accelerates."""

    degradation_hours: tuple[float, float]
    repair_hours: tuple[float, float]
    shape: float
    work_order_note: str


# Durations: order-of-magnitude field experience for reciprocating gas compressors (Bloch & Hoefner,
# "Reciprocating Compressors: Operation and Maintenance", 1996, ch. on valves, rings and running
# gear; GMRC, "Guideline for High-Speed Reciprocating Compressor Packages", 2013): valve plates
# crack and fail within hours to days; rings and rider bands wear over weeks; bearing and crosshead
# wear show in vibration for days to weeks (ISO 20816-8 zones); coolers foul over weeks to months;
# gas-engine ignition trouble develops within hours to days. The signatures on the six sensors are
# in ``with_degradation_effects``.
FAILURE_MODES: dict[str, ModeSignature] = {
    "valve": ModeSignature(
        (6, 120), (6, 24), 1.3, "Tripped on high discharge temperature; replaced cracked discharge valve plates"
    ),
    "piston_rings": ModeSignature(
        (120, 720), (24, 72), 1.5, "Capacity loss and high power per unit flow; replaced piston rings and rider bands"
    ),
    "bearing": ModeSignature(
        (48, 504), (48, 120), 1.3, "Tripped on high vibration; replaced crosshead pin bushing and main bearing shells"
    ),
    "cooler": ModeSignature(
        (240, 1008), (12, 36), 1.2, "High discharge temperature on hot afternoons; cleaned fouled cooler tube bundle"
    ),
    "driver": ModeSignature(
        (3, 72), (8, 48), 1.1, "Engine misfire and detonation, load shed; replaced spark plugs and ignition coil"
    ),
}
DEFAULT_SCHEDULED_MODE = "bearing"
# Vibration (mm/s RMS) a bearing failure trips at: beyond ISO 10816-3 zone D (7.1).
BEARING_VIBRATION_AT_FAILURE_MMS = 9.5
PREVENTIVE_MAINTENANCE_HOURS = (8.0, 16.0)
IDLE_HOURS = (4.0, 48.0)

# Sensor faults: how often each kind occurs among drawn faults, how long it lasts, and its size
# per sensor. Drift stays small enough never to cross an alarm limit from a healthy reading.
FAULT_SHARES = {"stuck": 0.30, "dropout": 0.30, "spike": 0.20, "drift": 0.15, "wrong_unit": 0.05}
FAULT_HOURS = {"stuck": (1.0, 12.0), "dropout": (0.5, 6.0), "drift": (48.0, 240.0)}
DRIFT_SIZE = {
    "vibration_mms": 0.6,
    "discharge_temp_f": 12.0,
    "suction_pressure_psi": 4.0,
    "discharge_pressure_psi": 40.0,
    "horsepower": 40.0,
    "gas_flow_mcf": 400.0,
}
SPIKE_SIZE = {
    "vibration_mms": 6.0,
    "discharge_temp_f": 80.0,
    "suction_pressure_psi": 35.0,
    "discharge_pressure_psi": 450.0,
    "horsepower": 900.0,
    "gas_flow_mcf": 9000.0,
}

# Work-order notes for what is not a failure mode.
PM_NOTE = "Quarterly service: oil and filters changed, valves inspected, ignition checked"
CAUGHT_NOTE = "Found on inspection before failure: "


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
    failure_rate_per_unit_year: float = 0.0
    sensor_faults: tuple[SensorFaultSpec, ...] = ()

    @property
    def n_steps(self) -> int:
        return int(round(self.days * 24 * 60 / self.interval_minutes))

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

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
                "rate": self.failure_rate_per_unit_year,
                "faults": [f.model_dump() for f in self.sensor_faults],
            },
            sort_keys=True,
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
        return f"sim-{self.start:%Y%m%dT%H%M}-{digest}"


# ---------------------------------------------------------------- the fleet


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


def operating_points(compressors: list[dict], seed: int) -> list[dict]:
    """Per-unit healthy operating point. It depends on the seed and the unit's place in the fleet
    only, so every batch continues the same unit and a grown fleet keeps the old units as they were.
    Ranges: gathering-service reciprocating packages (suction 55-75 psig, discharge ~1,000-1,100 psig,
    72-88 % of rated power, 8-12 MMscf/d)."""
    rng = random.Random(seed + 2)
    return [
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
        }
        for idx, comp in enumerate(compressors)
    ]


# ---------------------------------------------------------------- the event plan


@dataclass(frozen=True)
class Degradation:
    mode: str
    onset: datetime
    fails_at: datetime  # when it would fail if nothing intervened
    ends_at: datetime  # the failure, or the corrective repair that caught it
    repaired_at: datetime  # back in service, healthy
    wobble: float  # phase of its uneven progress

    @property
    def failed(self) -> bool:
        return self.ends_at == self.fails_at


@dataclass(frozen=True)
class Downtime:
    kind: str  # trip, corrective_repair, preventive_maintenance, idle
    start: datetime
    end: datetime
    mode: str | None = None


@dataclass(frozen=True)
class SensorFault:
    kind: str  # stuck, drift, dropout, spike, wrong_unit
    start: datetime
    end: datetime
    sensor: str | None = None
    magnitude: float = 0.0  # stuck: the value it repeats; drift: its final offset; spike: its offset
    other_unit: str | None = None  # wrong_unit: the id its reading is wrongly labelled with


@dataclass(frozen=True)
class UnitEvents:
    compressor_id: str
    degradations: tuple[Degradation, ...]
    downtimes: tuple[Downtime, ...]
    faults: tuple[SensorFault, ...]


def _rng(seed: int, unit: str, stream: str) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`: the same in every process and platform.
    return random.Random(f"{seed}/{unit}/{stream}")


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _arrivals(rng: random.Random, per_year: float, start: datetime, until: datetime) -> Iterator[datetime]:
    """A Poisson process's event times from ``start`` until ``until``."""
    if per_year <= 0:
        return
    t = start
    while True:
        t += timedelta(days=rng.expovariate(per_year / 365.25))
        if t >= until:
            return
        yield t


def _overlaps(start: datetime, end: datetime, spans: list[tuple[datetime, datetime]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _scheduled_degradation(spec: FailureSpec, epoch: datetime, rng: random.Random) -> Degradation:
    mode = FAILURE_MODES[spec.failure_mode]
    onset, fails = epoch + timedelta(days=spec.degradation_start_day), epoch + timedelta(days=spec.failure_day)
    repair = spec.repair_hours or rng.uniform(*mode.repair_hours)
    return Degradation(spec.failure_mode, onset, fails, fails, fails + timedelta(hours=repair), rng.uniform(0, 6.3))


def _drawn_degradations(
    rng: random.Random, config: AltavizConfig, rate: float, epoch: datetime, until: datetime
) -> list[Degradation]:
    """Degradations one after another: the next starts a random while after the last repair."""
    sim = config.simulation
    modes, shares = list(sim.failure_mode_shares), list(sim.failure_mode_shares.values())
    out: list[Degradation] = []
    ready = epoch
    while rate > 0:
        onset = ready + timedelta(days=rng.expovariate(rate / 365.25))
        if onset >= until:
            break
        name = rng.choices(modes, shares)[0]
        mode = FAILURE_MODES[name]
        fails = onset + timedelta(hours=_log_uniform(rng, *mode.degradation_hours))
        caught = rng.random() < sim.caught_by_maintenance_fraction
        found = rng.uniform(0.5, 0.9)
        ends = onset + (fails - onset) * found if caught else fails
        repaired = ends + timedelta(hours=rng.uniform(*mode.repair_hours))
        out.append(Degradation(name, onset, fails, ends, repaired, rng.uniform(0, 6.3)))
        ready = repaired
    return out


def _snap(t: datetime, epoch: datetime, interval_minutes: int) -> datetime:
    """The reading slot nearest ``t`` (an instantaneous fault hits one reading)."""
    step = interval_minutes * 60
    return epoch + timedelta(seconds=round((t - epoch).total_seconds() / step) * step)


def _sensor_value_scale(point: dict) -> dict[str, float]:
    """What a stuck transmitter repeats: a plausible value of the unit's sensor."""
    return {
        "vibration_mms": point["vib_base"],
        "discharge_temp_f": point["temp_base"],
        "suction_pressure_psi": point["suction_base"],
        "discharge_pressure_psi": point["discharge_base"],
        "horsepower": point["hp_base"],
        "gas_flow_mcf": point["flow_base"],
    }


def _fault(
    kind: str,
    start: datetime,
    hours: float,
    sensor: str | None,
    other: str | None,
    point: dict,
    rng: random.Random,
    plan: SimulationPlan,
) -> SensorFault:
    if kind in ("spike", "wrong_unit"):
        at = _snap(start, plan.epoch, plan.interval_minutes)
        start, end = at, at + timedelta(seconds=1)
    else:
        end = start + timedelta(hours=hours)
    magnitude = 0.0
    if kind == "stuck" and sensor:
        magnitude = round(_sensor_value_scale(point)[sensor], 3)
    elif kind == "drift" and sensor:
        magnitude = DRIFT_SIZE[sensor] * rng.uniform(0.5, 1.0) * rng.choice((-1, 1))
    elif kind == "spike" and sensor:
        magnitude = SPIKE_SIZE[sensor] * rng.uniform(0.8, 1.3) * (1 if sensor != "suction_pressure_psi" else -1)
    return SensorFault(kind, start, end, sensor, magnitude, other)


def unit_events(
    config: AltavizConfig, plan: SimulationPlan, point: dict, fleet_ids: list[str], until: datetime
) -> UnitEvents:
    """Everything that happens to one unit from the fleet epoch until ``until`` (plus a margin).

    A unit named in the failure or sensor-fault schedule keeps to its schedule and draws nothing
    else, so a scheduled story reads as written; every other unit draws from the configured rates."""
    sim, unit, seed, epoch = config.simulation, point["compressor_id"], plan.seed, plan.epoch
    horizon = until + PLAN_MARGIN
    scheduled = [f for f in plan.failures if f.compressor_id == unit]
    scheduled_faults = [f for f in plan.sensor_faults if f.compressor_id == unit]
    drawn = not scheduled and not scheduled_faults
    rng = _rng(seed, unit, "scheduled")
    degradations = [_scheduled_degradation(f, epoch, rng) for f in scheduled]
    if drawn:
        degradations = _drawn_degradations(
            _rng(seed, unit, "failures"), config, plan.failure_rate_per_unit_year, epoch, horizon
        )
    downtimes = [
        Downtime("trip" if d.failed else "corrective_repair", d.ends_at, d.repaired_at, d.mode) for d in degradations
    ]
    busy = [(d.onset, d.repaired_at) for d in degradations]

    # Preventive maintenance on a fixed interval from a per-unit phase, skipped while a degradation
    # and its repair have the unit.
    rng = _rng(seed, unit, "pm")
    interval = sim.preventive_maintenance_interval_days
    t = epoch + timedelta(days=rng.uniform(0, interval))
    while drawn and t < horizon:
        end = t + timedelta(hours=rng.uniform(*PREVENTIVE_MAINTENANCE_HOURS))
        if not _overlaps(t, end, busy):
            downtimes.append(Downtime("preventive_maintenance", t, end))
        t += timedelta(days=interval + rng.uniform(-3, 3))
    busy += [(d.start, d.end) for d in downtimes]

    rng = _rng(seed, unit, "idle")
    for t in _arrivals(rng, sim.idle_periods_per_unit_year if drawn else 0.0, epoch, horizon):
        end = t + timedelta(hours=_log_uniform(rng, *IDLE_HOURS))
        if not _overlaps(t, end, busy):
            downtimes.append(Downtime("idle", t, end))
            busy.append((t, end))

    faults = [
        _fault(f.kind, epoch + timedelta(days=f.start_day), f.hours, f.sensor, f.other_unit, point, rng, plan)
        for f in scheduled_faults
        if f.other_unit is None or f.other_unit in fleet_ids
    ]
    rng = _rng(seed, unit, "faults")
    others = [u for u in fleet_ids if u != unit]
    for t in _arrivals(rng, sim.sensor_faults_per_unit_year if drawn else 0.0, epoch, horizon):
        kind = rng.choices(list(FAULT_SHARES), list(FAULT_SHARES.values()))[0]
        sensor = rng.choice(SENSOR_COLUMNS)
        hours = rng.uniform(*FAULT_HOURS.get(kind, (0.0, 0.0)))
        other = rng.choice(others) if others else None
        if kind == "wrong_unit" and other is None:
            continue
        fault = _fault(
            kind,
            t,
            hours,
            sensor if kind not in ("dropout", "wrong_unit") else None,
            other if kind == "wrong_unit" else None,
            point,
            rng,
            plan,
        )
        if not _overlaps(fault.start, fault.end, [(f.start, f.end) for f in faults]):
            faults.append(fault)
    return UnitEvents(
        unit,
        tuple(sorted(degradations, key=lambda d: d.onset)),
        tuple(sorted(downtimes, key=lambda d: d.start)),
        tuple(sorted(faults, key=lambda f: f.start)),
    )


def fleet_events(config: AltavizConfig, plan: SimulationPlan, compressors: list[dict]) -> list[UnitEvents]:
    """The event plan of every unit up to the batch's end."""
    points = operating_points(compressors, plan.seed)
    ids = [c["compressor_id"] for c in compressors]
    return [unit_events(config, plan, p, ids, plan.end) for p in points]


# ---------------------------------------------------------------- readings (Spark)

_EVENTS = (
    "unit int, compressor_id string, vib_base double, temp_base double, suction_base double, "
    "discharge_base double, hp_base double, flow_base double, phase double, "
    "ambient_mean double, ambient_seasonal double, ambient_diurnal double, weather_a double, weather_b double, "
    "degradations array<struct<onset:double,fails:double,ends:double,mode:string,wobble:double>>, "
    "downtimes array<struct<start:double,end:double>>, "
    "faults array<struct<start:double,end:double,kind:string,sensor:string,magnitude:double>>"
)


def _s(t: datetime) -> float:
    return t.timestamp()


def _unit_rows(
    config: AltavizConfig,
    plan: SimulationPlan,
    compressors: list[dict],
    stations: list[dict],
    events: list[UnitEvents],
) -> list[dict]:
    basin_of = {s["station_id"]: s["basin"] for s in stations}
    rows = []
    for point, comp, ev in zip(operating_points(compressors, plan.seed), compressors, events, strict=True):
        basin = basin_of[comp["station_id"]]
        climate = config.fleet.basins[basin]
        weather = random.Random(f"{plan.seed}/{basin}/weather")
        rows.append(
            {
                **point,
                "ambient_mean": climate.annual_mean_f,
                "ambient_seasonal": climate.seasonal_amplitude_f,
                "ambient_diurnal": climate.diurnal_amplitude_f,
                "weather_a": weather.uniform(0, 2 * math.pi),
                "weather_b": weather.uniform(0, 2 * math.pi),
                "degradations": [
                    (_s(d.onset), _s(d.fails_at), _s(d.ends_at), d.mode, d.wobble) for d in ev.degradations
                ],
                "downtimes": [(_s(d.start), _s(d.end)) for d in ev.downtimes],
                "faults": [
                    (_s(f.start), _s(f.end), f.kind, f.sensor, f.magnitude) for f in ev.faults if f.kind != "wrong_unit"
                ],
            }
        )
    return rows


def _uniform(seed: int, tag: str, *columns: Column) -> Column:
    """A uniform in (0, 1) from a hash of (seed, columns, tag)."""
    h = F.xxhash64(F.lit(seed), *columns, F.lit(tag))
    return (F.pmod(h, F.lit(1 << 53)).cast("double") + 0.5) / float(1 << 53)


def _gaussian(seed: int, tag: str) -> Column:
    """Standard normal noise per (seed, unit, time, tag): Box-Muller on two hashed uniforms. Not
    clipped: field noise has tails, and the spike rule must live with them."""
    unit_time = (F.col("unit"), F.col("ts_s"))
    u1, u2 = _uniform(seed, tag + "a", *unit_time), _uniform(seed, tag + "b", *unit_time)
    return F.sqrt(-2.0 * F.log(u1)) * F.cos(2 * math.pi * u2)


def _active(events: str, start: str, end: str) -> Column:
    """The unit's event (from the array column ``events``) whose [start, end) holds this reading."""
    return F.try_element_at(
        F.filter(events, lambda e: (e[start] <= F.col("ts_s")) & (F.col("ts_s") < e[end])), F.lit(1)
    )


def with_operating_context(df: DataFrame, seed: int, epoch: datetime) -> DataFrame:
    """Adds ``ambient_f`` (basin climate: seasons, day and night, passing weather), ``load`` (demand
    set points that step every 12 h between 70 and 100 %), ``setpoint_psi`` (discharge pressure set
    point, re-set every 5 days by up to ±30 psi) and ``line_pack`` (the 12-hour pipeline cycle)."""
    since = F.col("ts_s") - F.lit(int(epoch.timestamp()))
    hours = since / HOUR_S
    local_hour = F.pmod(F.hour("timestamp") + F.minute("timestamp") / 60.0 + LOCAL_UTC_OFFSET_H, F.lit(24.0))
    ambient = (
        F.col("ambient_mean")
        + F.col("ambient_seasonal") * F.cos(2 * math.pi * (F.dayofyear("timestamp") - 197) / 365.25)  # hottest mid-July
        + F.col("ambient_diurnal") * F.cos(2 * math.pi * (local_hour - 15) / 24.0)  # hottest 3 pm
        + 4.0 * F.sin(2 * math.pi * hours / (3.7 * 24) + F.col("weather_a"))  # fronts passing
        + 3.0 * F.sin(2 * math.pi * hours / (9.3 * 24) + F.col("weather_b"))
    )
    load_block, setpoint_block = F.floor(since / (12 * HOUR_S)), F.floor(since / (5 * DAY_S))
    return (
        df.withColumn("ambient_f", ambient)
        .withColumn("load", 0.70 + 0.30 * _uniform(seed, "load", F.col("unit"), load_block))
        .withColumn("setpoint_psi", 60.0 * (_uniform(seed, "setpoint", F.col("unit"), setpoint_block) - 0.5))
        .withColumn("line_pack", F.sin(2 * math.pi * hours / 12.0 + F.col("phase")))
    )


def with_degradation_severity(df: DataFrame) -> DataFrame:
    """Adds ``mode`` (the active degradation's failure mode, or null) and ``severity`` (0 healthy, 1
    at failure). Severity = progress ** shape, made uneven by a few surges and lulls that vanish at
    onset and at failure, so there is no clean kink and no straight ramp."""
    d = _active("degradations", "onset", "ends")
    progress = (F.col("ts_s") - d["onset"]) / (d["fails"] - d["onset"])
    shape = F.element_at(
        F.create_map(*[x for m, s in FAILURE_MODES.items() for x in (F.lit(m), F.lit(s.shape))]), d["mode"]
    )
    uneven = 1 + 0.2 * F.sin(math.pi * progress) * F.sin(6 * math.pi * progress + d["wobble"])
    severity = F.least(F.greatest(F.pow(progress, shape) * uneven, F.lit(0.0)), F.lit(1.0))
    return df.withColumn("mode", d["mode"]).withColumn("severity", F.coalesce(severity, F.lit(0.0)))


def _severity_of(mode: str) -> Column:
    return F.when(F.col("mode") == mode, F.col("severity")).otherwise(F.lit(0.0))


def with_running_values(df: DataFrame, seed: int, epoch: datetime) -> DataFrame:
    """The six sensors of a running unit at its operating point, load and set point, with the
    active degradation's signature:

    - valve: a leaking valve recompresses hot gas — discharge temperature up (+120 °F at the trip,
      beyond the 350 °F shutdown), capacity down 22 %, suction up and discharge down (pressure ratio
      disturbed) with stronger pulsation; a little vibration.
    - piston_rings: blow-by — flow down 25 % while power stays, so horsepower per unit flow rises
      by a third; some recompression heat.
    - bearing (and crosshead): vibration grows exponentially to 9.5 mm/s with a growing spread.
    - cooler: discharge temperature creeps up, by more the hotter the afternoon.
    - driver (gas engine): horsepower falls short of demand (and speed, so flow, with it) and
      vibration comes in bursts of half an hour as cylinders misfire.
    """
    hours = (F.col("ts_s") - F.lit(int(epoch.timestamp()))) / HOUR_S
    valve, rings, bearing, cooler, driver = (_severity_of(m) for m in FAILURE_MODES)
    load, lp = F.col("load"), F.col("line_pack")
    suction = F.col("suction_base") + 4.0 * lp - 8.0 * (load - 0.85) + 3.0 * valve
    discharge = (
        F.col("discharge_base")
        + F.col("setpoint_psi")
        + 45.0 * lp
        + 20.0 * (load - 0.85)
        - 0.06 * F.col("discharge_base") * valve
    )
    ratio = F.log(discharge / suction) / F.log(F.col("discharge_base") / F.col("suction_base"))
    flow_loss = 1 - 0.22 * valve - 0.25 * rings - 0.05 * cooler - 0.20 * driver
    flow = F.col("flow_base") * (load / 0.85) * (1 + 0.04 * lp) * flow_loss
    horsepower = F.col("hp_base") * (0.55 + 0.45 * load / 0.85) * ratio * (1 + 0.04 * rings) * (1 - 0.25 * driver)
    temp = (
        F.col("temp_base")
        + 0.45 * (F.col("ambient_f") - F.col("ambient_mean"))
        + 60.0 * (ratio - 1)
        + 8.0 * (load - 0.85)
        + 120.0 * valve
        + 25.0 * rings
        + 10.0 * bearing
        + cooler * (20.0 + 1.2 * F.greatest(F.col("ambient_f") - 75.0, F.lit(0.0)))
    )
    vib_running = F.col("vib_base") * (0.85 + 0.2 * load)
    bearing_growth = F.exp(F.log(F.lit(BEARING_VIBRATION_AT_FAILURE_MMS) / F.col("vib_base")) * bearing)
    burst_block = F.floor(hours * 2)  # half-hour blocks
    burst = F.when(
        (driver > 0) & (_uniform(seed, "burst", F.col("unit"), burst_block) < 0.05 + 0.35 * driver),
        (1.0 + 3.5 * driver) * (0.6 + 0.4 * _uniform(seed, "burst_size", F.col("unit"), burst_block)),
    ).otherwise(F.lit(0.0))
    vibration = vib_running * bearing_growth + 0.5 * valve + 0.3 * rings + burst
    return (
        df.withColumn("vibration_mms", vibration + (0.12 + 0.9 * bearing) * _gaussian(seed, "vib"))
        .withColumn("discharge_temp_f", temp + 1.5 * _gaussian(seed, "temp"))
        .withColumn("suction_pressure_psi", suction + 1.0 * _gaussian(seed, "suc"))
        .withColumn("discharge_pressure_psi", discharge + (6.0 + 20.0 * valve) * _gaussian(seed, "dis"))
        .withColumn("horsepower", horsepower + 8.0 * _gaussian(seed, "hp"))
        .withColumn("gas_flow_mcf", flow + 80.0 * _gaussian(seed, "flow"))
    )


def with_downtime(df: DataFrame, seed: int) -> DataFrame:
    """A stopped unit (tripped, under repair or maintenance, or idle): flow and horsepower read
    zero, suction and discharge equalise at the settle-out pressure (time constant 10 min), the
    discharge temperature cools toward ambient (1.5 h) and vibration drops to the noise floor."""
    stop = _active("downtimes", "start", "end")
    since = F.col("ts_s") - stop["start"]
    settle = F.col("suction_pressure_psi") + 0.25 * (F.col("discharge_pressure_psi") - F.col("suction_pressure_psi"))
    equalise = F.exp(-since / 600.0)
    cool = F.exp(-since / 5400.0)
    stopped = {
        "vibration_mms": 0.04 + 0.01 * F.abs(_gaussian(seed, "vib_floor")),
        "discharge_temp_f": F.col("ambient_f") + (F.col("discharge_temp_f") - F.col("ambient_f")) * cool,
        "suction_pressure_psi": settle + (F.col("suction_pressure_psi") - settle) * equalise,
        "discharge_pressure_psi": settle + (F.col("discharge_pressure_psi") - settle) * equalise,
        "horsepower": F.lit(0.0),
        "gas_flow_mcf": F.lit(0.0),
    }
    out = df.withColumn("_stopped", stop.isNotNull())
    return out.select(
        *[c for c in out.columns if c not in stopped],
        *[F.when(F.col("_stopped"), v).otherwise(F.col(c)).alias(c) for c, v in stopped.items()],
    )


def with_sensor_faults(df: DataFrame) -> DataFrame:
    """Instrument faults on top of what the unit does: a stuck transmitter repeats one value, a
    drifting one adds a slowly growing offset, a spike adds one wild reading; a dropout removes the
    readings (``_dropped``)."""
    fault = _active("faults", "start", "end")
    progress = (F.col("ts_s") - fault["start"]) / (fault["end"] - fault["start"])
    faulted = df.withColumn("_fault", fault)
    out = []
    for s in SENSOR_COLUMNS:
        on_sensor = F.col("_fault.sensor") == s
        value = (
            F.when(on_sensor & (F.col("_fault.kind") == "stuck"), F.col("_fault.magnitude"))
            .when(on_sensor & (F.col("_fault.kind") == "drift"), F.col(s) + F.col("_fault.magnitude") * progress)
            .when(on_sensor & (F.col("_fault.kind") == "spike"), F.col(s) + F.col("_fault.magnitude"))
            .otherwise(F.col(s))
        )
        out.append(value.alias(s))
    return faulted.select(
        *[c for c in faulted.columns if c not in SENSOR_COLUMNS and c != "_fault"],
        *out,
        F.coalesce(F.col("_fault.kind") == "dropout", F.lit(False)).alias("_dropped"),
    )


def _physical(df: DataFrame) -> DataFrame:
    """Transmitters read no negative power, flow, pressure or vibration; three decimals, as they
    report (rint on the scaled value: round() works in BigDecimal)."""
    return df.select(
        "compressor_id",
        "timestamp",
        *[(F.rint(F.greatest(F.col(s), F.lit(0.0)) * 1000) / 1000).alias(s) for s in SENSOR_COLUMNS],
    )


def simulate_readings(
    spark: SparkSession,
    plan: SimulationPlan,
    compressors: list[dict],
    config: AltavizConfig,
    stations: list[dict],
    events: list[UnitEvents] | None = None,
    partitions: int | None = None,
) -> DataFrame:
    """One row per compressor per interval (less its dropouts, plus its wrong-unit readings), in the
    raw landing schema. ``partitions`` splits the work differently; the readings stay the same."""
    events = events if events is not None else fleet_events(config, plan, compressors)
    units = spark.createDataFrame(_unit_rows(config, plan, compressors, stations, events), _EVENTS)
    n_steps = plan.n_steps
    grid = (
        spark.range(0, len(compressors) * n_steps, numPartitions=partitions)
        .select((F.col("id") / n_steps).cast("int").alias("unit"), (F.col("id") % n_steps).alias("step"))
        .withColumn("ts_s", F.lit(int(plan.start.timestamp())) + F.col("step") * (plan.interval_minutes * 60))
        .withColumn("timestamp", F.timestamp_seconds("ts_s"))
    )
    simulated = (
        grid.join(F.broadcast(units), "unit")
        .transform(with_operating_context, plan.seed, plan.epoch)
        .transform(with_degradation_severity)
        .transform(with_running_values, plan.seed, plan.epoch)
        .transform(with_downtime, plan.seed)
        .transform(with_sensor_faults)
    )
    readings = simulated.filter(~F.col("_dropped"))
    mislabelled = [
        (unit, int(_s(f.start)), f.other_unit)
        for unit, ev in enumerate(events)
        for f in ev.faults
        if f.kind == "wrong_unit" and plan.start <= f.start < plan.end
    ]
    if mislabelled:
        # The gateway tags one of this unit's readings with another unit's id.
        relabel = spark.createDataFrame(mislabelled, "unit int, ts_s long, _as string")
        wrong = simulated.join(F.broadcast(relabel), ["unit", "ts_s"]).withColumn("compressor_id", F.col("_as"))
        readings = readings.unionByName(wrong.drop("_as"))
    return readings.transform(_physical).select(*RAW_SENSOR_READINGS.fieldNames())


# ---------------------------------------------------------------- what else lands


def _in_window(start: datetime, end: datetime, plan: SimulationPlan) -> bool:
    return start < plan.end and end >= plan.start


def maintenance_records(plan: SimulationPlan, events: list[UnitEvents]) -> list[dict]:
    """The work orders a CMMS export holds for this batch's window: every failure, corrective
    repair and preventive maintenance that started or was open in it. One still open at the window's
    end has no ``ended_at`` yet; a later batch lands it again, closed (silver keeps the newest)."""
    records = []
    for ev in events:
        for d in ev.downtimes:
            if d.kind == "idle" or d.start >= plan.end or not _in_window(d.start, d.end, plan):
                continue
            event_type = {"trip": "failure"}.get(d.kind, d.kind)
            note = {
                "failure": FAILURE_MODES[d.mode].work_order_note if d.mode else "",
                "corrective_repair": CAUGHT_NOTE + FAILURE_MODES[d.mode].work_order_note.lower() if d.mode else "",
                "preventive_maintenance": PM_NOTE,
            }[event_type]
            digest = hashlib.sha256(f"{plan.seed}|{ev.compressor_id}|{d.start.isoformat()}|{d.kind}".encode())
            records.append(
                {
                    "work_order_id": f"WO-{digest.hexdigest()[:12].upper()}",
                    "compressor_id": ev.compressor_id,
                    "event_type": event_type,
                    "failure_mode": d.mode,
                    "started_at": d.start,
                    "ended_at": d.end if d.end <= plan.end else None,
                    "notes": note,
                }
            )
    return records


def ground_truth(plan: SimulationPlan, events: list[UnitEvents]) -> list[dict]:
    """The answer key: every degradation this batch's window overlaps, with its mode, its onset, and
    its failure (null when maintenance caught it first)."""
    truth = []
    for ev in events:
        for d in ev.degradations:
            if _in_window(d.onset, d.repaired_at, plan) and d.onset < plan.end:
                truth.append(
                    {
                        "compressor_id": ev.compressor_id,
                        "failure_mode": d.mode,
                        "degradation_start": d.onset,
                        "failure_at": d.fails_at if d.failed else None,
                        "caught_at": None if d.failed else d.ends_at,
                        "repaired_at": d.repaired_at,
                        "batch_id": plan.batch_id,
                    }
                )
    return truth


def stations_frame(spark: SparkSession, stations: list[dict]) -> DataFrame:
    return spark.createDataFrame(stations, RAW_STATIONS)


def compressors_frame(spark: SparkSession, compressors: list[dict]) -> DataFrame:
    return spark.createDataFrame(compressors, RAW_COMPRESSORS)


def maintenance_frame(spark: SparkSession, records: list[dict]) -> DataFrame:
    return spark.createDataFrame(records, RAW_MAINTENANCE_EVENTS)


def ground_truth_frame(spark: SparkSession, truth: list[dict]) -> DataFrame:
    return spark.createDataFrame(truth, GROUND_TRUTH)
