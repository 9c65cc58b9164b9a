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

# # 06 · Train
#
# Trains the failure model, run by its own pipeline (`altaviz_training`: on demand or weekly): a
# LightGBM classifier (fails within 72 h) and a RUL regressor on features of `gold_hourly_readings`,
# labelled from the maintenance work orders in `silver_maintenance_events` (never the simulator's
# answer key). Judged on held-out units after a time cut, side by side with the threshold alerts
# (lead time of the first warning per failure, false alarms per healthy unit-month, RUL error); the
# table is logged with the run and the registered model version in MLflow (Fabric's built-in MLflow:
# an Experiment item and an ML model item). The first registered version is promoted (version tag
# `altaviz.stage=production`); later versions wait for an operator to promote them.
#
# `training_data`: `history` trains on a simulated history fleet in its own lakehouse folder
# (created on first use); `lakehouse` on this lakehouse's own gold tables and work orders.
#
# Reads: `Tables/gold_hourly_readings`, `Tables/silver_maintenance_events`, `Tables/gold_alert_episodes`.
# Writes: the MLflow experiment and registered model, `Tables/ops_run_steps`.
#
# Each cell below is one call into the `altaviz` wheel; `runtime.preview` shows its result in an
# interactive session and does nothing in a pipeline run. With `write = False` the models are fitted
# and judged, and nothing is logged, registered or recorded.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
training_data = "history"  # history (simulated history fleet) or lakehouse (this lakehouse's gold)
write = True  # False: fit and judge the models, but log, register and record nothing

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
step = jobs.open_step(spark, "06_train", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · The training data
#
# Gold hours, the maintenance work orders that label them (a failure order ends a unit's run to
# failure; units with no failure ahead are censored, not labelled healthy) and the threshold alerts the
# model is compared with. `history`: a simulated fleet in its own lakehouse folder, simulated and
# refined by 01–04 on first use (a few minutes), never mixed into this lakehouse's tables.

# CELL ********************

tables = jobs.training_tables(step, training_data)
runtime.preview(tables.hourly, title="gold hours to learn from")
runtime.preview(tables.events, title="work orders that label them")

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Fit, judge, register
#
# Units are split into training and test units, and time at a cut: no unit's future is seen in training.
# LightGBM learns "fails within 72 h" and the remaining useful life from the features of each running
# hour (levels, drift from the unit's own baseline, 24 h and 7-day slopes). The table judges the
# model and the threshold alerts on the same held-out hours: per failure the lead time of the first
# warning, shares warned 24 h and 48 h ahead, false alarms per healthy unit-month, RUL error. It is
# logged with the MLflow run and tagged on the registered version.

# CELL ********************

evaluation = jobs.train_model(step, tables)
runtime.preview(evaluation, title="warnings judged against the work orders (held-out units and time)")

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Record the step
#
# One row in `ops_run_steps` (model name and version, the evaluation) and the notebook's exit value.

# CELL ********************

result = step.finish()
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
