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

# ## Run
#
# All logic lives in the `altaviz` wheel; this notebook only passes its parameters.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
result = jobs.run_simulate(
    spark,
    run_id=runtime.resolve_run_id(run_id),
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

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# CELL ********************

runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
