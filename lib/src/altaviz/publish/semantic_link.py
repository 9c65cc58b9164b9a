"""After publishing, in Fabric: refresh the lakehouse SQL analytics endpoint's metadata and, when
05_publish names one, a Power BI semantic model (semantic link, ``sempy.fabric``).

Both are Fabric services; a local run logs one line saying so and does nothing else. A failed
refresh fails the notebook: a dashboard silently showing yesterday's numbers is worse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from altaviz import runtime

log = logging.getLogger("altaviz.publish")

# A Direct Lake / import refresh of the fleet model takes minutes; a refresh still running after
# this long is reported as failed rather than leaving the pipeline waiting.
MODEL_REFRESH_TIMEOUT_S = 30 * 60
MODEL_REFRESH_POLL_S = 15
# Power BI's final refresh states; anything else (Unknown, NotStarted, InProgress) is still running.
_REFRESH_ENDED = {"Completed", "Failed", "Cancelled", "Disabled", "TimedOut"}


def _sempy_fabric() -> Any:
    import sempy.fabric  # type: ignore[import-not-found]  # preinstalled in the Fabric runtime

    return sempy.fabric


def refresh_sql_endpoint(fabric: Any, lakehouse_id: str, workspace_id: str) -> str:
    """Syncs the SQL analytics endpoint of the notebook's default lakehouse with its Delta tables;
    raises when a table's sync failed."""
    sql_endpoint = getattr(fabric, "sql_endpoint", None)
    if sql_endpoint is not None and hasattr(sql_endpoint, "refresh_sql_endpoint_metadata"):
        statuses = sql_endpoint.refresh_sql_endpoint_metadata(lakehouse_id, "Lakehouse", workspace=workspace_id)
        records = statuses.to_dict("records") if hasattr(statuses, "to_dict") else list(statuses or [])
        raise_on_failed_tables((r.get("Table Name"), r.get("Status"), r.get("Error Message")) for r in records)
        return "refreshed"
    # Older sempy: the same REST call (Items - Refresh Sql Endpoint Metadata) through its client.
    client = fabric.FabricRestClient()
    lakehouse = client.get(f"v1/workspaces/{workspace_id}/lakehouses/{lakehouse_id}").json()
    endpoint_id = lakehouse["properties"]["sqlEndpointProperties"]["id"]
    response = client.post(f"v1/workspaces/{workspace_id}/sqlEndpoints/{endpoint_id}/refreshMetadata", json={})
    if response.status_code not in (200, 202):
        raise RuntimeError(f"SQL endpoint metadata refresh failed: HTTP {response.status_code} {response.text}")
    if response.status_code == 202:
        return "accepted"  # a long-running operation: the per-table result is not known yet
    raise_on_failed_tables(
        (e.get("tableName"), e.get("status"), (e.get("error") or {}).get("message"))
        for e in response.json().get("value", [])
    )
    return "refreshed"


def raise_on_failed_tables(statuses: Iterable[tuple[Any, Any, Any]]) -> None:
    """(table, status, error message) per table of an endpoint metadata sync: raises naming each
    table whose status is Failure."""
    failed = [f"{table}: {message or 'no message'}" for table, status, message in statuses if status == "Failure"]
    if failed:
        raise RuntimeError(f"SQL endpoint metadata sync failed for {len(failed)} table(s): {'; '.join(failed)}")


def wait_for_model_refresh(
    fabric: Any,
    model: str,
    request_id: str,
    workspace: str | None,
    *,
    timeout_s: float = MODEL_REFRESH_TIMEOUT_S,
    poll_s: float = MODEL_REFRESH_POLL_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Polls a semantic model refresh until it ends; returns "completed" or raises with Power BI's
    status and messages (failed, cancelled, or still running after ``timeout_s``)."""
    deadline = clock() + timeout_s
    while True:
        details = fabric.get_refresh_execution_details(model, request_id, workspace=workspace)
        status = str(getattr(details, "status", "Unknown"))
        if status == "Completed":
            return "completed"
        if status in _REFRESH_ENDED:
            raise RuntimeError(f"semantic model {model!r} refresh {request_id} ended {status}: {_messages(details)}")
        if clock() >= deadline:
            raise TimeoutError(f"semantic model {model!r} refresh {request_id} still {status} after {timeout_s:.0f} s")
        sleep(poll_s)


def _messages(details: Any) -> str:
    messages = getattr(details, "messages", None)
    if messages is None:
        return "no messages"
    records: list[Mapping[str, Any]] = messages.to_dict("records") if hasattr(messages, "to_dict") else list(messages)
    return "; ".join(str(r) for r in records[:5]) or "no messages"


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
        log.info("semantic model %r: refresh %s requested; waiting for it to end", semantic_model, request_id)
        outcome = wait_for_model_refresh(fabric, semantic_model, request_id, workspace or None)
        result["semantic_model"] = f"refresh {outcome} ({request_id})"
        log.info("semantic model %r: refresh %s %s", semantic_model, request_id, outcome)
    else:
        result["semantic_model"] = "none"
    return result
