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

# # 03 · Silver
#
# Validates the bronze readings silver has not judged yet against named rules — `missing_value`,
# `out_of_range`, `unknown_compressor`, `future_timestamp`, `duplicate_reading`, `outlier_4sigma` —
# and merges valid rows into `silver_sensor_readings`. Every failing row goes to
# `silver_quarantine_readings` with the rules it failed; per-rule counts go to `silver_rule_counts`.
#
# Reads: `Tables/bronze_*`. Writes: `Tables/silver_*`, `Tables/gold_data_quality`, `Tables/ops_run_steps`.
# Next: `04_gold`.
#
# Each cell below is one call into the `altaviz` wheel (the logic lives there, with its tests);
# `runtime.preview` shows a few rows in an interactive session and does nothing in a pipeline run.
# With `write = False` every cell runs and previews, and nothing is written.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
write = True  # False: run every transform and preview, but write nothing (no tables, no serving database, no run log)

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
step = jobs.open_step(spark, "03_silver", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · Fleet registries
#
# `silver_stations` and `silver_compressors` hold the newest bronze version of each entry; only
# entries that changed are merged. The compressors are what `unknown_compressor` checks readings against.

# CELL ********************

compressors = jobs.refresh_registries(step)
runtime.preview(compressors)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Work orders
#
# The CMMS work orders: the newest valid version of each goes to `silver_maintenance_events`, invalid
# ones to `silver_quarantine_maintenance_events` with the rules they failed. They are few, so every
# run judges them all.

# CELL ********************

work_orders = jobs.refresh_work_orders(step, compressors)
print(work_orders)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Judge the new readings
#
# A Delta stream over `bronze_sensor_readings` hands over the rows not judged yet (its checkpoint
# remembers where the last run stopped; with `write = False` a scratch copy is used). Each row gets
# its `failed_rules`; valid rows are appended to silver, failures to quarantine, and a reading whose
# next one has not arrived yet waits in `silver_pending_readings`. The preview shows the last
# micro-batch's verdicts.

# CELL ********************

judged = jobs.judge_new_readings(step, compressors)
if judged.last_judged is not None:
    runtime.preview(judged.last_judged)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Rule counts
#
# How many rows failed each rule in this run, appended once per run to `silver_rule_counts` (the
# dashboard's data-quality view reads it).

# CELL ********************

rule_counts = jobs.record_rule_counts(step, judged)
runtime.preview(rule_counts)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 5 · Data quality
#
# Completeness, freshness and the share of bronze rows placed somewhere (silver, quarantine or
# pending), appended to `gold_data_quality` for this run.

# CELL ********************

silver_quality = jobs.record_silver_quality(step, judged, compressors)
runtime.preview(silver_quality)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 6 · Record the step
#
# Writes this step's row in `ops_run_steps` (timing, rows in and out, the counts above) and ends the
# notebook with the same summary as its exit value, which the pipeline can read.

# CELL ********************

result = step.finish()
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
