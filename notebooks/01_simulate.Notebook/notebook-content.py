# Fabric notebook source

# METADATA ********************

# META {
# META   "kernel_info": {
# META     "name": "synapse_pyspark"
# META   },
# META   "dependencies": {
# META     "lakehouse": {
# META       "default_lakehouse": "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1100",
# META       "default_lakehouse_name": "altaviz_lakehouse",
# META       "default_lakehouse_workspace_id": "00000000-0000-0000-0000-000000000000",
# META       "known_lakehouses": [
# META         {
# META           "id": "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1100"
# META         }
# META       ]
# META     },
# META     "environment": {
# META       "environmentId": "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1300",
# META       "workspaceId": "00000000-0000-0000-0000-000000000000"
# META     }
# META   }
# META }

# MARKDOWN ********************

# # 01 · Simulate
#
# Lands one seeded batch of compressor telemetry under `Files/raw/` — what a field gateway and a
# maintenance system would deliver: readings (`Files/raw/sensor_readings/`), the fleet registry
# (`stations/`, `compressors/`), the CMMS work orders (`maintenance_events/`: failures, corrective
# repairs, preventive maintenance) and the answer key (`ground_truth/`: which unit degrades how,
# and fails when). Units fail by mode (valve, piston rings, bearing, cooler, driver), trip and stay
# down for their repair, are serviced and shut in; sensors stick, drift, drop out and spike.
#
# Reads: nothing. Writes: `Files/raw/**` (Parquet). Next: `02_bronze`.
# Zero or empty parameters take the defaults from `altaviz.yaml`; the same parameters land the
# same batch only once. Batches continue one fleet: readings are a function of the time since the
# fleet epoch, so thirty one-day runs (`days=1`, consecutive `run_date`s) land exactly the readings
# of one thirty-day run.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
write = True  # False: run every transform and preview, but write nothing (no tables, no serving database, no run log)
run_date = ""  # YYYY-MM-DD: the simulated window ends at midnight UTC of this day (default today)
start = ""  # ISO timestamp; overrides run_date when set
n_compressors = 0
n_stations = 0
days = 0
interval_minutes = 0
seed = -1
failure_schedule = ""  # JSON list of {compressor_id, degradation_start_day, failure_day[, failure_mode]}
failure_rate_per_unit_year = -1.0  # failures drawn per unit-year for unscheduled units; -1: the configured rate
fleet_epoch = ""  # ISO date the failure schedule counts from; empty: the fleet's first batch start

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 0 · Open the step
#
# The Spark session, the lakehouse (read-only when `write` is False) and `altaviz.yaml`. The step is
# recorded in `ops_run_steps` by the last cell, only if every cell before it succeeded.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
step = jobs.open_step(spark, "01_simulate", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · Plan the batch
#
# Which fleet (stations, compressors), which window (`run_date` or `start`, `days`, `interval_minutes`)
# and which failures (`failure_schedule`, else the configured schedule, plus failures drawn at
# `failure_rate_per_unit_year`). The fleet's epoch comes from `Files/simulator/fleet.json`, written by its
# first batch, so batches continue one fleet. A batch whose readings already landed is not landed again.

# CELL ********************

batch = jobs.plan_simulation(
    step,
    run_date=run_date,
    start=start,
    n_compressors=int(n_compressors),
    n_stations=int(n_stations),
    days=float(days),
    interval_minutes=int(interval_minutes),
    seed=int(seed),
    failure_schedule=failure_schedule,
    failure_rate_per_unit_year=float(failure_rate_per_unit_year),
    fleet_epoch_at=fleet_epoch,
)
print(step.detail)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Simulate
#
# The fleet registry, the answer key (which unit degrades how and fails when), the CMMS work orders and
# the readings: healthy operation plus each unit's degradation, trips, repairs and sensor faults. Nothing
# is computed until a frame is looked at or landed.

# CELL ********************

frames = jobs.simulate_batch(step, batch)
for source in ("compressors", "ground_truth", "sensor_readings"):
    if source in frames:
        runtime.preview(frames[source])

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Land the batch
#
# Each frame as Parquet under `Files/raw/<source>/batch-<id>/`, the readings last: their `_SUCCESS`
# file marks the batch complete for `02_bronze`.

# CELL ********************

landed = jobs.land_batch(step, batch, frames)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Record the step
#
# Writes this step's row in `ops_run_steps` and ends the notebook with the batch's summary as its exit value.

# CELL ********************

result = step.finish()
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
