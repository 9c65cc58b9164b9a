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
write = True  # False: run every transform and preview, but write nothing (no tables, no serving database, no run log)
retention_hours = 0  # VACUUM retention in hours (at least 168); 0 takes altaviz.yaml's

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 0 · Open the step
#
# The Spark session, the lakehouse (read-only when `write` is False) and `altaviz.yaml`. The step is
# recorded in `ops_run_steps` by the last cell, only if every cell before it succeeded.

# CELL ********************

from altaviz import jobs, runtime

spark = runtime.get_spark()
step = jobs.open_step(spark, "08_maintain", run_id=runtime.resolve_run_id(run_id), write=write)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 1 · Retention
#
# `retention_hours`, or `altaviz.yaml`'s when 0; anything under 168 h is refused, since a stream or a
# reader that started before a rewrite could lose files it still needs.

# CELL ********************

retention = jobs.vacuum_retention(step, int(retention_hours))

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 2 · Tables and their files
#
# Every catalog table that exists, with its data files and bytes now: the small files a daily run adds
# are what compaction folds together.

# CELL ********************

tables = jobs.tables_to_maintain(step)
runtime.preview(tables, n=50)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 3 · Compact and vacuum
#
# Per table: `OPTIMIZE` (a commit without data change, which no stream or change feed sees), then
# `VACUUM` at the retention. With `write = False` neither runs.

# CELL ********************

maintained = jobs.compact_and_vacuum(step, tables, retention)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }

# MARKDOWN ********************

# ## 4 · Record the step
#
# Writes this step's row in `ops_run_steps` and ends the notebook with the files added and removed per table.

# CELL ********************

result = step.finish()
runtime.exit_notebook(result)

# METADATA ********************

# META {
# META   "language": "python",
# META   "language_group": "synapse_pyspark"
# META }
