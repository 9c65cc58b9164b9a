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

# ## Run
#
# All logic lives in the `altaviz` wheel; this notebook only passes its parameters.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
result = jobs.run_publish(
    spark,
    run_id=runtime.resolve_run_id(run_id),
    target=target,
    sql_server=sql_server,
    sql_database=sql_database,
    sql_auth=sql_auth,
    sql_driver=sql_driver,
    tenant_id=tenant_id,
    client_id=client_id,
    key_vault_url=key_vault_url,
    sql_client_secret_name=sql_client_secret_name,
    semantic_model=semantic_model,
)

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
