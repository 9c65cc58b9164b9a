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
continuous_seconds = 0  # > 0: keep ingesting new files every that many seconds (runs until stopped)

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
result = jobs.run_bronze(spark, run_id=runtime.resolve_run_id(run_id), continuous_seconds=int(continuous_seconds))

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
