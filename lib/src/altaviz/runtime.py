"""The one module that knows whether code runs inside Microsoft Fabric or locally.

Everything environment-specific goes through here: the Spark session, where the lakehouse is,
secrets, the run id and the notebook exit value. Elsewhere the code is the same in both places.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger("altaviz")

# Printed by exit_notebook locally; the local runner reads it from the executed notebook.
EXIT_MARKER = "##altaviz-exit-value##"
# Set by the local runner for the kernel it starts: a pipeline run, where previews do nothing.
PIPELINE_RUN_ENV = "ALTAVIZ_PIPELINE_RUN"
# "1" or "0" forces previews on or off (e.g. "0" for a papermill run outside the runner).
PREVIEW_ENV = "ALTAVIZ_PREVIEW"


@cache
def _notebookutils() -> Any | None:
    try:
        import notebookutils  # type: ignore[import-not-found]  # only exists in Fabric
    except ImportError:
        return None
    return notebookutils


def in_fabric() -> bool:
    return _notebookutils() is not None


def state_home() -> Path:
    """Local state folder: lakehouse, embedded PostgreSQL, run folders. ``ALTAVIZ_HOME`` overrides."""
    return Path(os.environ.get("ALTAVIZ_HOME") or Path.cwd() / ".altaviz").resolve()


def lakehouse_root() -> str:
    """Root that ``Tables/…`` and ``Files/…`` hang from.

    In Fabric the notebook's default lakehouse resolves relative paths, so the root is empty and
    ``Tables/silver_sensor_readings`` means the same table in both places.
    """
    if in_fabric():
        return ""
    return str(state_home() / "lakehouse")


# Session settings Altaviz's transforms are built for, in Fabric and locally alike.
SESSION_CONF = {
    # A window keeps each compressor's rows in a plain in-memory buffer up to this many rows (Spark's
    # default, 4,096, is less than a 10-minute unit-month; beyond it every unit goes through a
    # spilling buffer, which made a fleet-month's windows several times slower).
    "spark.sql.windowExec.buffer.in.memory.threshold": "1000000",
    # Parquet timestamps in nanoseconds (what pandas 2, Fabric Runtime 2.0's pandas, writes by
    # default) are an "Illegal Parquet type" to Spark; read as epoch nanoseconds instead, which
    # bronze turns into the instant like any epoch number.
    "spark.sql.legacy.parquet.nanosAsLong": "true",
}


def get_spark() -> SparkSession:
    """The Spark session: Fabric's own one (with Altaviz's session settings), or a local one with
    Delta configured."""
    from pyspark.sql import SparkSession

    if in_fabric():
        spark = SparkSession.builder.getOrCreate()
    else:
        active = SparkSession.getActiveSession()
        spark = active if active is not None else _build_local_spark()
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    return spark


def _jar_manifest() -> Path:
    from importlib.metadata import version

    return Path.home() / ".cache" / "altaviz" / f"delta-spark-{version('delta-spark')}-jars.txt"


def _cached_delta_jars() -> list[str] | None:
    """Jars Ivy resolved on an earlier start, if all still exist: Ivy re-checks Maven Central on
    every start (~8 s each, for every notebook), which the cached list skips."""
    manifest = _jar_manifest()
    if not manifest.exists():
        return None
    jars = manifest.read_text(encoding="utf-8").split()
    return jars if jars and all(Path(j.removeprefix("file://")).exists() for j in jars) else None


def _build_local_spark() -> SparkSession:
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    # PySpark hands timestamps to Python as naive datetimes in the process's time zone; Fabric's
    # driver runs in UTC, and so does a local run, so a collected timestamp means the same everywhere.
    os.environ["TZ"] = "UTC"
    time.tzset()
    # Python workers (UDFs, pandas conversions) run the driver's interpreter, not whatever `python3`
    # is first on PATH: PySpark refuses a worker of another minor version (the venv is 3.13, a
    # machine's python3 may be 3.11).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    log4j = resources.files("altaviz").joinpath("conf/log4j2.properties")
    builder = (
        SparkSession.builder.master(os.environ.get("ALTAVIZ_SPARK_MASTER", "local[*]"))
        .appName("altaviz")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        # A fleet-month is sorted and windowed in one JVM: with less heap it spends its time in GC.
        .config("spark.driver.memory", os.environ.get("ALTAVIZ_SPARK_MEMORY", "8g"))
        # One JVM serves a whole run and compiles thousands of generated classes: the default 48 MB
        # code cache fills up and the JIT switches itself off, leaving Spark interpreted. The
        # throughput collector costs less than G1's concurrent work on two cores.
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dlog4j2.configurationFile=file:{log4j} "
            + os.environ.get("ALTAVIZ_SPARK_JAVA_OPTIONS", "-XX:ReservedCodeCacheSize=256m -XX:+UseParallelGC"),
        )
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("ALTAVIZ_SHUFFLE_PARTITIONS", "4"))
        .config("spark.sql.session.timeZone", "UTC")
        # Delta rebuilds table state with 50 tasks by default: far too many for 2 local cores.
        .config("spark.databricks.delta.snapshotPartitions", "2")
    )
    jars = _cached_delta_jars()
    if jars:
        spark = builder.config("spark.jars", ",".join(jars)).getOrCreate()
    else:
        spark = configure_spark_with_delta_pip(builder).getOrCreate()
        resolved = spark.sparkContext.getConf().get("spark.jars", "")
        if resolved:
            _jar_manifest().parent.mkdir(parents=True, exist_ok=True)
            _jar_manifest().write_text("\n".join(resolved.split(",")) + "\n", encoding="utf-8")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def resolve_run_id(run_id: str | None) -> str:
    """The pipeline's run id when a pipeline passed one, else a fresh one for a standalone run."""
    if run_id:
        return run_id
    return f"adhoc-{uuid.uuid4().hex[:12]}"


def get_secret(name: str, key_vault_url: str | None = None, env_var: str | None = None) -> str | None:
    """A secret from Key Vault in Fabric (when a vault is named), else from the environment.

    Key Vault secret names allow only letters, digits and dashes, so a local run can read the same
    secret from a differently named variable (``env_var``; default: ``name``).
    """
    utils = _notebookutils()
    if utils is not None and key_vault_url:
        return utils.credentials.getSecret(key_vault_url, name)
    return os.environ.get(env_var or name)


def get_token(audience: str) -> str:
    """A Microsoft Entra access token for ``audience`` (e.g. ``https://database.windows.net/``).

    In Fabric: the identity the notebook runs as (the user, or the pipeline's owner / workspace
    identity). Locally: azure-identity's default chain (service principal from ``AZURE_CLIENT_ID`` /
    ``AZURE_TENANT_ID`` / ``AZURE_CLIENT_SECRET``, then managed identity, then the Azure CLI login).
    """
    utils = _notebookutils()
    if utils is not None:
        return utils.credentials.getToken(audience)
    from azure.identity import DefaultAzureCredential  # the `fabric` extra; only needed for Azure targets

    credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    return credential.get_token(audience.rstrip("/") + "/.default").token


def fabric_context() -> dict[str, str]:
    """Workspace and default-lakehouse ids of the running notebook; empty outside Fabric."""
    utils = _notebookutils()
    if utils is None:
        return {}
    context = dict(utils.runtime.context)
    keys = ("currentWorkspaceId", "defaultLakehouseId", "defaultLakehouseName", "defaultLakehouseWorkspaceId")
    return {k: str(context.get(k) or "") for k in keys}


def is_interactive() -> bool:
    """Whether someone is looking at this notebook: an interactive Fabric session, or a local
    Jupyter kernel that the runner did not start. False in pipeline runs, under the runner's
    papermill, outside a kernel and whenever unsure. ``ALTAVIZ_PREVIEW=1|0`` overrides."""
    forced = os.environ.get(PREVIEW_ENV, "")
    if forced in ("0", "1"):
        return forced == "1"
    utils = _notebookutils()
    if utils is not None:
        # notebookutils.runtime.context: isForPipeline / isForInteractive / isReferenceRun (all contexts).
        try:
            context = dict(utils.runtime.context)
        except Exception:  # noqa: BLE001  (an older runtime without the context: assume no one is looking)
            return False
        return (
            context.get("isForInteractive") is True
            and context.get("isForPipeline") is False
            and not context.get("isReferenceRun")
        )
    if os.environ.get(PIPELINE_RUN_ENV):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"  # a Jupyter kernel


def preview(df: Any, n: int = 20, *, title: str = "") -> None:
    """Shows the first ``n`` rows of ``df`` (Spark or pandas) with ``display`` when someone is looking
    (``is_interactive``); does nothing (and runs no Spark job) in pipeline runs and under papermill."""
    if not is_interactive():
        return
    from IPython.display import display

    if title:
        print(title)
    if not hasattr(df, "limit"):  # a pandas frame (a model's evaluation table)
        display(df.head(n))
        return
    limited = df.limit(n)
    fabric_display = _fabric_display()
    if fabric_display is not None:
        fabric_display(limited)  # Fabric's rich table, with its charts and column profiles
    else:
        display(limited.toPandas())


def _fabric_display() -> Any | None:
    """Fabric's notebook ``display`` (in every session's namespace), else None."""
    if _notebookutils() is None:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else shell.user_ns.get("display")


def skipped_outside_fabric(action: str) -> None:
    """The one log line for a Fabric-only step in a local run, so a skipped step is never silent."""
    log.info("not running in Microsoft Fabric (no notebookutils): skipped %s", action)


def exit_notebook(value: dict[str, Any]) -> None:
    """End the notebook with a JSON exit value (``@activity('…').output.result.exitValue``)."""
    payload = json.dumps(value, default=str, sort_keys=True)
    utils = _notebookutils()
    if utils is not None:
        utils.notebook.exit(payload)
    else:
        print(f"{EXIT_MARKER}{payload}")
