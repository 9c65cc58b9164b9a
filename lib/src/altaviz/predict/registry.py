"""MLflow tracking and model registry: Fabric's built-in MLflow in the cloud, a file store under the
state folder locally.

Promotion = the model version tag ``altaviz.stage=production``; scoring loads the newest version that
carries it. Why a version tag: Fabric's ML model items document versions with their tags, while
registry aliases and stages are not confirmed there (stages are deprecated in MLflow anyway). Setting
one tag on one version is the single promotion action, in the MLflow UI, in Fabric or with
``altaviz.predict.registry.promote``; rolling back is removing it from the newer version.

Locally the store is a plain file store (``file:``): mlflow-skinny has no SQLAlchemy for SQLite,
and the file store carries tracking and the registry alike.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from altaviz import runtime

log = logging.getLogger("altaviz.predict.registry")

STAGE_TAG = "altaviz.stage"
PRODUCTION = "production"


def configure(home: Path | None = None) -> str:
    """Points MLflow at its store and returns the URI: Fabric's own (left as the runtime sets it),
    MLflow's own ``MLFLOW_TRACKING_URI`` when set (one registry shared by several state folders,
    e.g. every pipeline run of the test suite), else ``<state folder>/mlflow``."""
    if runtime.in_fabric():
        return mlflow.get_tracking_uri()
    shared = os.environ.get("MLFLOW_TRACKING_URI")
    if home is None and shared:
        mlflow.set_tracking_uri(shared)
        mlflow.set_registry_uri(shared)
        return shared
    folder = (home or runtime.state_home()) / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    uri = folder.resolve().as_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def promote(name: str, version: str | int) -> None:
    """Makes ``version`` the one scoring loads."""
    MlflowClient().set_model_version_tag(name, str(version), STAGE_TAG, PRODUCTION)
    log.info("model %s version %s promoted (tag %s=%s)", name, version, STAGE_TAG, PRODUCTION)


def production_version(name: str) -> str | None:
    """The newest version of the registered model tagged for production; None if there is none
    (no registered model yet, or nothing promoted)."""
    client = MlflowClient()
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except mlflow.exceptions.MlflowException:
        return None
    promoted = [int(v.version) for v in versions if v.tags.get(STAGE_TAG) == PRODUCTION]
    return str(max(promoted)) if promoted else None


def load_production(name: str) -> tuple[mlflow.pyfunc.PyFuncModel, str]:
    version = production_version(name)
    if version is None:
        raise LookupError(
            f"no version of registered model {name!r} is tagged {STAGE_TAG}={PRODUCTION}: run 06_train "
            "(it registers and promotes its first model) or promote a version"
        )
    return mlflow.pyfunc.load_model(f"models:/{name}/{version}"), version
