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

# # 08 · Maintain
#
# Table maintenance, run by its own pipeline (`altaviz_maintenance`, weekly): each Delta table's
# small files — a daily run adds a few per table — are compacted (`OPTIMIZE`), then files that no
# version within the retention still references are deleted (`VACUUM`). Neither changes the data:
# compaction commits carry no data change, so no stream and no change feed sees them.
#
# The retention (`lakehouse.vacuum_retention_hours` in `altaviz.yaml`, at least 168 h) is how long a
# reader, a stream or time travel can still reach the files a rewrite replaced.
#
# Reads and writes: every `Tables/*`.

# PARAMETERS CELL ********************

run_id = ""  # the pipeline passes @pipeline().RunId; empty means an ad-hoc run
retention_hours = 0  # VACUUM retention in hours (at least 168); 0 takes altaviz.yaml's

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
result = jobs.run_maintain(spark, run_id=runtime.resolve_run_id(run_id), retention_hours=int(retention_hours))

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
