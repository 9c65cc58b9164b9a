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

# # 04 · Gold
#
# Rolling features (`vibration_1hr_mean`, `temp_4hr_mean`, `pressure_24hr_mean`, `temp_1hr_delta`,
# `pressure_differential`, …), threshold statuses with hysteresis, hourly aggregates, alert
# episodes and the run's data-quality metrics.
#
# Reads: `Tables/silver_*`. Writes: `Tables/gold_*`, `Tables/ops_run_steps`. Next: `05_publish`.
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
step = jobs.open_step(spark, "04_gold", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · Recompute where silver gained readings
#
# A Delta stream over `silver_sensor_readings` hands over the readings added since the last run (its
# checkpoint remembers; with `write = False` a scratch copy is used). For each compressor with new
# readings, gold is recomputed from its first new hour, with the lookback the widest window needs
# (24 h) and the alert levels carried in from the hour before. Each micro-batch:
#
# 1. `gold.to_sensor_features`: rolling means and deltas, threshold levels with hysteresis → `gold_sensor_features`;
# 2. `gold.to_hourly_readings`: one row per compressor and hour, with its worst status → `gold_hourly_readings`;
# 3. `alerts.to_alert_episodes`: a run of warning/critical levels per sensor becomes one episode, reopened
#    or extended by new readings → `gold_alert_episodes`.

# CELL ********************

totals = jobs.recompute_gold(step)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ### Features
#
# The last micro-batch's features: one row per reading, with the rolling windows and each sensor's level.

# CELL ********************

if totals.last_features is not None:
    runtime.preview(totals.last_features)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ### Hourly readings
#
# The same readings by compressor and hour: means, extremes and the hour's worst status per sensor
# group — the grain the dashboard and the semantic model read.

# CELL ********************

if totals.last_hourly is not None:
    runtime.preview(totals.last_hourly)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ### Alert episodes that changed
#
# Episodes opened, escalated, extended or cleared by the last micro-batch (`_delete` marks an episode a
# recomputation replaced).

# CELL ********************

if totals.last_episode_changes is not None:
    runtime.preview(totals.last_episode_changes)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Data quality
#
# Hours written, their span and how many units reported, appended to `gold_data_quality` for this run.

# CELL ********************

gold_quality = jobs.record_gold_quality(step, totals)
runtime.preview(gold_quality)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Alert summary
#
# Alert episodes in gold after this run: all of them, the critical ones, the ones still active.

# CELL ********************

alert_counts = jobs.summarise_alerts(step)
print(alert_counts)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Record the step
#
# Writes this step's row in `ops_run_steps` (timing, rows in and out, the counts above) and ends the
# notebook with the same summary as its exit value.

# CELL ********************

result = step.finish()
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
