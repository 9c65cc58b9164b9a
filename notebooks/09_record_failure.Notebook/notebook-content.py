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

# # 09 · Record failure
#
# The pipeline's on-failure path: it runs only when an activity of `01_simulate` … `05_publish`
# failed (it depends on `05_publish` with the conditions Failed and Skipped). Each activity's error
# message comes in as a parameter (empty when it succeeded or was skipped); every failed step is
# appended to `ops_run_steps` with status `failed` and its error, and the run log is published, so
# the serving database's `pipeline_runs` shows the run as failed. The pipeline's `run_failed`
# activity then fails the pipeline run with the failed step named.
#
# Reads: `Tables/ops_run_steps`. Writes: `Tables/ops_run_steps`, the serving database's run log.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId
write = True  # False: run every transform and preview, but write nothing (no tables, no serving database, no run log)
# Each activity's error message (@activity('…').error?.message); empty: it succeeded or was skipped.
error_01_simulate = ""
error_02_bronze = ""
error_03_silver = ""
error_04_gold = ""
error_07_score = ""
error_05_publish = ""
# Where the run log is published: the same serving database settings as 05_publish.
target = ""  # "postgres", "azure_sql" or "fabric_sql"; empty uses DB_TYPE, then PostgreSQL
sql_server = ""  # empty uses AZURE_SQL_SERVER
sql_database = ""  # empty uses AZURE_SQL_DATABASE
sql_auth = ""  # identity | service_principal | default; empty: AZURE_SQL_AUTH, else identity in Fabric
sql_driver = ""  # ODBC driver name; empty: AZURE_SQL_DRIVER, else "ODBC Driver 18 for SQL Server"
tenant_id = ""  # service principal's tenant; empty: AZURE_TENANT_ID
client_id = ""  # service principal's application id; empty: AZURE_CLIENT_ID
key_vault_url = ""  # Key Vault holding the service principal's secret; empty: AZURE_KEY_VAULT_URL
sql_client_secret_name = ""  # that secret's name; empty: AZURE_SQL_CLIENT_SECRET_NAME

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 0 · Open the step
#
# The Spark session, the lakehouse (read-only when `write` is False) and `altaviz.yaml`. This notebook
# records the failed steps, not a step of its own.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
step = jobs.open_step(spark, "09_record_failure", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · The failed steps
#
# One `ops_run_steps` row with status `failed` per activity whose error message is not empty (the error,
# cut to fit the serving column, in `detail`). A failed notebook never recorded its own start, so it
# counts from when the run's last recorded step finished.

# CELL ********************

failed = jobs.failed_steps(
    step,
    {
        "01_simulate": error_01_simulate,
        "02_bronze": error_02_bronze,
        "03_silver": error_03_silver,
        "04_gold": error_04_gold,
        "07_score": error_07_score,
        "05_publish": error_05_publish,
    },
)
runtime.preview(failed)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Record them in the lakehouse
#
# Appended to `ops_run_steps` first: if the serving database is what failed, the failure is still recorded.

# CELL ********************

result = jobs.record_failed_steps(step, failed)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Publish the run log
#
# The run (now `failed`) and its steps to the serving database 05_publish writes to, so the dashboard's
# "last run" shows the failure. Then the pipeline's `run_failed` activity fails the run.

# CELL ********************

serving = jobs.open_serving(
    step,
    target,
    sql_server=sql_server,
    sql_database=sql_database,
    sql_auth=sql_auth,
    sql_driver=sql_driver,
    tenant_id=tenant_id,
    client_id=client_id,
    key_vault_url=key_vault_url,
    sql_client_secret_name=sql_client_secret_name,
)
result["recorded_in"] = jobs.publish_run_log(step, serving)
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
