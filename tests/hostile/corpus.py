"""Hostile deliveries: each kind of bad file a field gateway lands, built with pyarrow/pandas,
with the outcome it must end in declared next to it.

Outcomes: ``("empty",)`` — readable, no rows, listed as empty (not rejected); ``("ignored",)`` — not a
delivery (never listed); ``("rejected", reason prefix)`` — the file is rejected whole into bronze_rejected_files;
``("silver", n)`` — all n rows reach silver; ``("quarantined", {rule: n}, accepted)`` — n rows
quarantined under each rule, ``accepted`` rows reach silver.

The good delivery covers COMP-001 and COMP-002 for the whole day; each kind writes COMP-003 rows in
an hour of its own (so kinds never meet each other's keys), except where the kind is about keys.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from altaviz.config import SENSOR_COLUMNS as SENSORS

HEALTHY = (2.5, 250.0, 60.0, 1000.0, 1200.0, 9000.0)
DAY = datetime(2026, 1, 1, tzinfo=UTC)
UTC_MICROS = pa.timestamp("us", tz="UTC")


@dataclass
class Kind:
    name: str
    outcome: tuple
    path: Path
    run: int = 1  # the run the file lands before


def readings(unit: str, start: datetime, n: int = 6, seed: int = 0) -> pd.DataFrame:
    """n healthy readings every 10 minutes, with noise (no value repeats, no spike)."""
    rnd = random.Random(f"{unit}{start}{seed}")
    rows = []
    for i in range(n):
        values = {s: round(v * (1 + rnd.uniform(-0.01, 0.01)), 3) for s, v in zip(SENSORS, HEALTHY, strict=True)}
        rows.append({"compressor_id": unit, "timestamp": start + timedelta(minutes=10 * i), **values})
    return pd.DataFrame(rows)


def _parquet(df: pd.DataFrame, path: Path, ts_type: pa.DataType | None = UTC_MICROS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    i = table.schema.get_field_index("timestamp")
    if ts_type is not None and i >= 0 and pa.types.is_timestamp(table.schema.field(i).type):
        table = table.set_column(i, "timestamp", table.column("timestamp").cast(ts_type))
    pq.write_table(table, path)
    return path


def _csv(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def hour(h: int) -> datetime:
    return DAY + timedelta(hours=h)


def land_good(raw: Path) -> tuple[Path, pd.DataFrame]:
    good = pd.concat([readings("COMP-001", DAY, 144), readings("COMP-002", DAY, 144)])
    return _parquet(good, raw / "sensor_readings/gw-good/2026-01-01/part-0000.parquet"), good


def land_registry(raw: Path, units: list[str], batch: str) -> None:
    stations = pd.DataFrame(
        [
            {
                "station_id": "ST-1",
                "station_name": "One",
                "basin": "Permian",
                "city": "Midland",
                "latitude": 32.0,
                "longitude": -102.0,
            }
        ]
    )
    compressors = pd.DataFrame(
        [
            {
                "compressor_id": u,
                "station_id": "ST-1",
                "model": "Ajax",
                "rated_horsepower": 1500,
                "install_date": datetime(2020, 1, 1).date(),
            }
            for u in units
        ]
    )
    compressors["rated_horsepower"] = compressors["rated_horsepower"].astype("int32")
    _parquet(stations, raw / f"stations/{batch}/part-0.parquet", None)
    _parquet(compressors, raw / f"compressors/{batch}/part-0.parquet", None)


def land_corpus(raw: Path, good_file: Path) -> list[Kind]:
    """Every kind of first-run bad delivery beside the good one."""
    sr, csv = raw / "sensor_readings", raw / "sensor_readings_csv"
    kinds: list[Kind] = []

    def add(name, outcome, path):
        kinds.append(Kind(name, outcome, path))

    p = sr / "gw-empty/part-0.parquet"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"")
    add("empty file (0 bytes)", ("rejected", "empty: the file is 0 bytes"), p)

    add(
        "zero-row Parquet",
        ("empty",),  # readable, no rows: nothing lost, listed in bronze_landed_files as empty
        _parquet(readings("COMP-003", hour(0)).iloc[0:0], sr / "gw-zero/part-0.parquet"),
    )

    whole = _parquet(readings("COMP-003", hour(1)), sr / "gw-truncated/tmp-whole.parquet")
    p = sr / "gw-truncated/part-0.parquet"
    p.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    add("truncated Parquet", ("rejected", "unreadable:"), p)

    p = sr / "gw-garbage/part-00000.parquet"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"\x00garbage" * 512)
    add("not Parquet, named .parquet", ("rejected", "unreadable:"), p)

    df = readings("COMP-003", hour(2))
    df["timestamp"] = df["timestamp"].map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    add("CSV in the CSV landing folder", ("silver", 6), _csv(df, csv / "gw-csv/2026-01-01.csv"))

    df = readings("COMP-003", hour(3)).astype({s: "object" for s in SENSORS})
    df["timestamp"] = df["timestamp"].map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S"))
    df.loc[1, "vibration_mms"] = "n/a"
    df.loc[2, "timestamp"] = "yesterday noon"
    add(
        "CSV with unparseable values",
        ("quarantined", {"unparseable_value": 2, "missing_value": 2}, 4),
        _csv(df, csv / "gw-csv/2026-01-01-b.csv"),
    )

    df = readings("COMP-003", hour(4))
    df["timestamp"] = df["timestamp"].map(lambda t: t.isoformat())
    add("CSV dropped in the Parquet folder", ("silver", 6), _csv(df, sr / "gw-csv-here/readings.csv"))

    add(
        "missing sensor column",
        ("quarantined", {"missing_value": 6}, 0),
        _parquet(readings("COMP-003", hour(5)).drop(columns=["gas_flow_mcf"]), sr / "gw-missing/part-0.parquet"),
    )

    df = readings("COMP-003", hour(6))
    df["firmware"] = "v2.1"
    add("extra column (ignored)", ("silver", 6), _parquet(df, sr / "gw-extra/part-0.parquet"))

    add(
        "renamed column",
        ("rejected", "columns: columns renamed?"),
        _parquet(
            readings("COMP-003", hour(7)).rename(columns={"discharge_temp_f": "temp_discharge_f"}),
            sr / "gw-renamed/part-0.parquet",
        ),
    )

    add(
        "missing key column (no timestamp)",
        ("rejected", "columns: missing key column"),
        _parquet(readings("COMP-003", hour(8)).drop(columns=["timestamp"]), sr / "gw-nokey/part-0.parquet"),
    )

    df = readings("COMP-003", hour(9))
    df = df.astype({s: "str" for s in SENSORS})
    add("numbers as strings", ("silver", 6), _parquet(df, sr / "gw-strings/part-0.parquet"))

    df = readings("COMP-003", hour(10)).astype({s: "str" for s in SENSORS})
    df.loc[3, "horsepower"] = "ERR"
    add(
        "strings in a numeric column",
        ("quarantined", {"unparseable_value": 1, "missing_value": 1}, 5),
        _parquet(df, sr / "gw-err/part-0.parquet"),
    )

    df = readings("COMP-003", hour(11))
    df.loc[0, "vibration_mms"] = float("nan")
    df.loc[1, "horsepower"] = float("inf")
    df.loc[2, "discharge_temp_f"] = float("-inf")
    add(
        "NaN and ±Inf",
        ("quarantined", {"missing_value": 1, "out_of_range": 2}, 3),
        _parquet(df, sr / "gw-naninf/part-0.parquet"),
    )

    df = readings("COMP-003", hour(12))
    df["timestamp"] = df["timestamp"].map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S"))
    add("timestamps as strings, no zone (read as UTC)", ("silver", 6), _parquet(df, sr / "gw-tsstr/part-0.parquet"))

    df = readings("COMP-003", hour(13))
    df["timestamp"] = df["timestamp"].map(lambda t: (t + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"))
    add("timestamps as strings with an offset", ("silver", 6), _parquet(df, sr / "gw-tsoffset/part-0.parquet"))

    df = readings("COMP-003", hour(14))
    df["timestamp"] = df["timestamp"].map(lambda t: int(t.timestamp()))
    add("timestamps as epoch seconds", ("silver", 6), _parquet(df, sr / "gw-epoch-s/part-0.parquet"))

    df = readings("COMP-003", hour(15))
    df["timestamp"] = df["timestamp"].map(lambda t: int(t.timestamp() * 1000))
    add("timestamps as epoch milliseconds", ("silver", 6), _parquet(df, sr / "gw-epoch-ms/part-0.parquet"))

    df = readings("COMP-003", hour(16))
    df["timestamp"] = df["timestamp"].dt.tz_convert(None)
    add(
        "timestamps without time zone (timestamp_ntz, read as UTC)",
        ("silver", 6),
        _parquet(df, sr / "gw-ntz/part-0.parquet", pa.timestamp("us")),
    )

    df = readings("COMP-003", hour(17))
    df["timestamp"] = df["timestamp"].dt.tz_convert("America/Chicago")
    add(
        "timestamps in local time with their zone",
        ("silver", 6),
        _parquet(df, sr / "gw-chicago/part-0.parquet", pa.timestamp("ms", tz="America/Chicago")),
    )

    add(
        "rows out of order",
        ("silver", 6),
        _parquet(readings("COMP-003", hour(18)).sample(frac=1, random_state=3), sr / "gw-shuffled/part-0.parquet"),
    )

    df = readings("COMP-003", hour(19)).astype({"horsepower": "int32", "gas_flow_mcf": "int64"})
    df.columns = [c.upper() for c in df.columns]
    add(
        "integer sensors, upper-case names",
        ("silver", 6),
        _parquet(df[df.columns[::-1]], sr / "gw-ints/part-0.parquet"),
    )

    add(
        "timestamps in nanoseconds (pandas 2's default Parquet)",
        ("silver", 6),
        # hour 8: the file without a timestamp column (rejected) lands none of its hour's readings;
        # the unit's last hour would leave its newest reading pending.
        _parquet(readings("COMP-003", hour(8), seed=8), sr / "gw-nanos/part-0.parquet", pa.timestamp("ns", tz="UTC")),
    )

    df = readings("COMP-003", hour(20)).astype({"vibration_mms": "bool"})
    add(
        "a column of a type that cannot hold it (boolean)",
        ("rejected", "columns: column types cannot be read"),
        _parquet(df, sr / "gw-bool/part-0.parquet"),
    )

    df = readings("COMP-003", hour(21), 4)
    conflict = df.iloc[[1]].copy()
    conflict["vibration_mms"] = 9.9
    df = pd.concat([df, conflict, df.iloc[[2]]])
    add(
        "duplicate keys: one with other values, one identical",
        ("quarantined", {"conflicting_duplicate": 2, "duplicate_reading": 1}, 3),
        _parquet(df, sr / "gw-dupkeys/part-0.parquet"),
    )

    dup = sr / "gw-resend/2026-01-01/part-0000-copy.parquet"
    dup.parent.mkdir(parents=True)
    shutil.copy(good_file, dup)
    add("the same file delivered twice under another name", ("rejected", "duplicate delivery"), dup)

    # Held in run 1 (quarantined as unknown_compressor), released in run 2 when the registry lists it.
    add(
        "a unit the registry does not know yet (held, then released)",
        ("silver", 6),
        _parquet(readings("COMP-004", hour(0)), sr / "gw-newunit/part-0.parquet"),
    )

    p = sr / "gw-upload/part-0.parquet.tmp"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"half an upload")
    add("an upload in progress (.tmp)", ("ignored",), p)
    return kinds


def land_second_run(raw: Path, good: pd.DataFrame) -> list[Kind]:
    """What arrives after the first run: a late file for the day already processed, the registry
    entry of the unit held so far, and a gateway that wrote local time as if it were UTC."""
    sr = raw / "sensor_readings"
    kinds = [
        Kind(
            "late file for a day already processed",
            ("silver", 6),
            _parquet(readings("COMP-003", hour(22)), sr / "gw-late/part-0.parquet"),
            2,
        ),
    ]
    local = good[(good.compressor_id == "COMP-001")].iloc[60:66].copy()  # 10:00 UTC …
    local["timestamp"] = (local["timestamp"] - timedelta(hours=6)).dt.tz_convert(None)  # … written as 04:00
    local["vibration_mms"] += 0.5
    kinds.append(
        Kind(
            "local time written as UTC (collides with that hour's readings)",
            ("quarantined", {"conflicting_duplicate": 6}, 0),
            _parquet(local, sr / "gw-localtime/part-0.parquet", pa.timestamp("us")),
            2,
        )
    )
    return kinds
