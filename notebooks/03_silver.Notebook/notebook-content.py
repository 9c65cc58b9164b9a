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
# Reads: `Tables/bronze_*`. Writes: `Tables/silver_*`. Next: `04_gold`.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run

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
result = jobs.run_silver(spark, run_id=runtime.resolve_run_id(run_id))

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
