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

# # 05 · Publish
#
# Upserts stations, compressors, thresholds, hourly readings, alert episodes, data-quality metrics
# and the run log into the serving database: PostgreSQL (embedded locally unless `DATABASE_URL`
# is set), Azure SQL (`target = "azure_sql"` or `DB_TYPE`) or a SQL database in Fabric
# (`target = "fabric_sql"`, same settings). Operators' acknowledgements and
# resolutions are never overwritten. In Fabric it then refreshes the lakehouse SQL analytics
# endpoint metadata and, when `semantic_model` names one (default: `altaviz`, the model deployed
# with these items), that Power BI semantic model.
#
# Reads: `Tables/silver_*`, `Tables/gold_*`, `Tables/ops_run_steps`. Writes: the serving database.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
write = True  # False: run every transform and preview, but write nothing (no tables, no serving database, no run log)
target = ""  # "postgres", "azure_sql" or "fabric_sql"; empty uses DB_TYPE, then PostgreSQL
sql_server = ""  # myserver.database.windows.net or <id>.database.fabric.microsoft.com; empty: AZURE_SQL_SERVER
sql_database = ""  # Azure SQL database; empty uses AZURE_SQL_DATABASE
# A Fabric notebook has no environment variables of its own: the rest of the Azure SQL settings come
# as parameters too (empty: the environment variable named, then the default).
sql_auth = ""  # identity | service_principal | default; empty: AZURE_SQL_AUTH, else identity in Fabric
sql_driver = ""  # ODBC driver name; empty: AZURE_SQL_DRIVER, else "ODBC Driver 18 for SQL Server"
tenant_id = ""  # service principal's tenant; empty: AZURE_TENANT_ID
client_id = ""  # service principal's application id; empty: AZURE_CLIENT_ID
key_vault_url = ""  # Key Vault holding the service principal's secret; empty: AZURE_KEY_VAULT_URL
sql_client_secret_name = ""  # that secret's name; empty: AZURE_SQL_CLIENT_SECRET_NAME, else altaviz-sql-client-secret
semantic_model = "altaviz"  # Power BI semantic model to refresh after publishing (Fabric only); empty: none

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 0 · Open the step
#
# The Spark session, the lakehouse (read-only when `write` is False) and `altaviz.yaml`. The step is
# recorded in `ops_run_steps` once publishing succeeded.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
step = jobs.open_step(spark, "05_publish", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · Open the serving database
#
# The target named by `target` (or `DB_TYPE`), with the Azure SQL settings from the parameters above;
# its schema is applied (idempotent DDL). With `write = False` nothing is opened: the cells below show
# what the lakehouse holds for each serving table instead.

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

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · What the dashboard will show
#
# The lakehouse side of two serving tables: hourly readings and alert episodes, in the columns the
# serving database keeps (operators' acknowledgements are not among them, so a publish never undoes one).

# CELL ********************

runtime.preview(jobs.serving_frame(step, "hourly_readings"))
runtime.preview(jobs.serving_frame(step, "alerts"))

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Publish what changed
#
# For each serving table in foreign-key order: the rows its lakehouse table changed since the version
# the serving database last received (Delta change data feed; a full snapshot the first time), upserted
# and deleted in one transaction, with the new watermark. Then `latest_readings` is refreshed.

# CELL ********************

published = jobs.publish_changes(step, serving)
print(published)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Record the step and publish the run log
#
# The step's row goes to `ops_run_steps` first, so the run log sent to the serving database
# (`pipeline_runs`, `pipeline_run_steps`) includes publishing itself; then the database is closed.

# CELL ********************

result = step.finish()
jobs.publish_run_log(step, serving)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 5 · Refresh the SQL endpoint and the semantic model
#
# In Fabric: the lakehouse SQL analytics endpoint's metadata, then the semantic model named by
# `semantic_model`, waited for (a failed refresh fails this notebook). Skipped locally and with `write = False`.

# CELL ********************

result["refresh"] = jobs.refresh_serving_models(step, semantic_model)
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
