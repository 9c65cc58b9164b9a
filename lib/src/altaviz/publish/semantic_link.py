"""After publishing, in Fabric: refresh the lakehouse SQL analytics endpoint's metadata and, when
05_publish names one, a Power BI semantic model (semantic link, ``sempy.fabric``).

Both are Fabric services; a local run logs one line saying so and does nothing else. A failed
refresh fails the notebook: a dashboard silently showing yesterday's numbers is worse.
"""

from __future__ import annotations

import logging
from typing import Any

from altaviz import runtime

log = logging.getLogger("altaviz.publish")


def _sempy_fabric() -> Any:
    import sempy.fabric  # type: ignore[import-not-found]  # preinstalled in the Fabric runtime

    return sempy.fabric


def refresh_sql_endpoint(fabric: Any, lakehouse_id: str, workspace_id: str) -> str:
    """Syncs the SQL analytics endpoint of the notebook's default lakehouse with its Delta tables."""
    sql_endpoint = getattr(fabric, "sql_endpoint", None)
    if sql_endpoint is not None and hasattr(sql_endpoint, "refresh_sql_endpoint_metadata"):
        sql_endpoint.refresh_sql_endpoint_metadata(lakehouse_id, "Lakehouse", workspace=workspace_id)
        return "refreshed"
    # Older sempy: the same REST call (Items - Refresh Sql Endpoint Metadata) through its client.
    client = fabric.FabricRestClient()
    lakehouse = client.get(f"v1/workspaces/{workspace_id}/lakehouses/{lakehouse_id}").json()
    endpoint_id = lakehouse["properties"]["sqlEndpointProperties"]["id"]
    response = client.post(f"v1/workspaces/{workspace_id}/sqlEndpoints/{endpoint_id}/refreshMetadata", json={})
    if response.status_code not in (200, 202):
        raise RuntimeError(f"SQL endpoint metadata refresh failed: HTTP {response.status_code} {response.text}")
    return "refreshed" if response.status_code == 200 else "accepted"


def refresh_after_publish(semantic_model: str = "", workspace: str = "") -> dict[str, str]:
    """Refreshes the SQL endpoint metadata and, if named, the semantic model; returns what happened."""
    if not runtime.in_fabric():
        what = "SQL endpoint metadata refresh"
        if semantic_model:
            what += f" and refresh of semantic model {semantic_model!r}"
        runtime.skipped_outside_fabric(what)
        return {
            "sql_endpoint": "skipped (local)",
            "semantic_model": "skipped (local)" if semantic_model else "none",
        }
    fabric = _sempy_fabric()
    context = runtime.fabric_context()
    lakehouse_id = context.get("defaultLakehouseId", "")
    lakehouse_workspace = context.get("defaultLakehouseWorkspaceId") or context.get("currentWorkspaceId", "")
    result: dict[str, str] = {}
    if lakehouse_id:
        result["sql_endpoint"] = refresh_sql_endpoint(fabric, lakehouse_id, lakehouse_workspace)
        log.info("SQL analytics endpoint of lakehouse %s: metadata %s", lakehouse_id, result["sql_endpoint"])
    else:
        result["sql_endpoint"] = "skipped (no default lakehouse)"
        log.warning("no default lakehouse attached: SQL endpoint metadata not refreshed")
    if semantic_model:
        request_id = fabric.refresh_dataset(semantic_model, workspace=workspace or None)
        result["semantic_model"] = f"refresh requested ({request_id})"
        log.info("semantic model %r: refresh requested, request id %s", semantic_model, request_id)
    else:
        result["semantic_model"] = "none"
    return result
