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
# Writes: the MLflow experiment and registered model.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
training_data = "history"  # history (simulated history fleet) or lakehouse (this lakehouse's gold)

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
result = jobs.run_train(spark, run_id=runtime.resolve_run_id(run_id), training_data=training_data)

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
