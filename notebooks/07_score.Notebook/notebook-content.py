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

# # 07 · Score
#
# The failure model's view of every running hour gold gained: the probability of failing within 72 h
# and the remaining useful life, each row naming the model version that said so, and the model's
# warnings as alert episodes beside the threshold ones.
#
# Reads: `Tables/gold_hourly_readings`, `Tables/gold_predictions`, the MLflow registry. Writes:
# `Tables/gold_predictions`, `Tables/gold_alert_episodes` (source `model`). Next: `05_publish`.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
write = True  # False: score and preview, but write nothing (no tables, no run log; never trains)

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
step = jobs.open_step(spark, "07_score", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · The promoted model
#
# The newest version of the registered model `altaviz_compressor_failure` tagged
# `altaviz.stage=production` (in Fabric: the ML model item's versions). Promoting another version is
# setting that tag on it. With no promoted version yet (a new workspace), `06_train` trains, judges and
# registers the first one on a simulated history fleet, and promotes it.

# CELL ********************

promoted = jobs.promoted_model(step)
print(f"scoring with {promoted.name} version {promoted.version}")

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Features of the hours to score
#
# Each unit's running hours after its newest prediction (its newest hour waits for the next run, as
# later readings may still complete it): 6 h levels, deviations from the unit's own baseline, 24 h and
# 7 d slopes, computed over gold with the week before them as context.

# CELL ********************

wanted = jobs.features_to_score(step)
runtime.preview(wanted)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Score
#
# Probability of failing within 72 h and remaining useful life per hour, from the promoted version.

# CELL ********************

predicted = jobs.score_hours(step, promoted, wanted)
runtime.preview(predicted)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Write predictions and model alerts
#
# Merged into `gold_predictions` by unit and hour (a rerun rewrites nothing). The model's warnings
# become episodes of `failure_risk` (source `model`) in `gold_alert_episodes`: open after
# `min_warning_hours` hours at `warn_probability` or more, cleared below `clear_probability`.

# CELL ********************

jobs.write_predictions(step, predicted)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 5 · Record the step
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
