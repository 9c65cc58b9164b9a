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

# # 02 · Bronze
#
# Appends every raw file not yet ingested to its bronze Delta table, read with an explicit schema
# and stamped with `_source_file`, `_ingested_at`, `_ingest_run_id` and a stable `_record_id`.
# Each new file is landed on its own (`altaviz.bronze.land_new_files`): listed, hashed (a second
# delivery of the same bytes is rejected as a duplicate), its columns matched and cast (CSV, string
# and epoch timestamps, text numbers), or rejected whole into `bronze_rejected_files` with the reason.
# `bronze_landed_files` lists every file once, so a run with nothing new costs seconds.
# `continuous_seconds` > 0 keeps landing at that interval (real-time monitoring) until stopped.
#
# Reads: `Files/raw/{sensor_readings,sensor_readings_csv,stations,compressors,maintenance_events}`.
# Writes: `Tables/bronze_*`.
# Re-running ingests nothing twice. Next: `03_silver`.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
continuous_seconds = 0  # > 0: keep landing new files every that many seconds (runs until stopped)
write = True  # False: read, cast and preview every new file, but write nothing (no tables, no ledger, no run log)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 0 · Open the step
#
# The Spark session, the lakehouse (read-only when `write` is False), `altaviz.yaml` and the step's
# clock. The step is recorded in `ops_run_steps` by the last cell, only if every cell before it succeeded.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
step = jobs.open_step(spark, "02_bronze", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · Land the new deliveries
#
# Per landing folder, the files not in `bronze_landed_files` yet: hashed, their columns matched to the
# bronze table's and cast, appended with `_source_file`, `_ingested_at`, `_ingest_run_id` and a stable
# `_record_id`. A value that does not cast travels on in `_unparsed_values` (silver quarantines its row);
# a file that cannot be read whole is rejected with the reason. Every file is then listed in the ledger.

# CELL ********************

landing = jobs.land_new_deliveries(step, int(continuous_seconds))
print(landing.rows)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · What was rejected
#
# The files rejected whole this run and why (also in `bronze_rejected_files`; `altaviz run` exits 4
# when there are any).

# CELL ********************

rejected = jobs.record_landing(step, landing)
runtime.preview(rejected)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Data quality
#
# Freshness and duplicate record ids of the rows this run landed, appended to `gold_data_quality`.

# CELL ********************

runtime.preview(jobs.record_bronze_quality(step))

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Record the step
#
# One row in `ops_run_steps` (when writing); its summary is the notebook's exit value.

# CELL ********************

result = step.finish()
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
