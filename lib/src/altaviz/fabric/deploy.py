"""Build the wheel, assemble the Fabric items and publish them with fabric-cicd.

A dry run goes through the same steps up to the publish call: fabric-cicd loads and validates
parameter.yml, scans the assembled items and applies its own replacements (logicalIds, the
workspace id, find_replace / key_value_replace with $items / $workspace / $ENV values) to every
file, exactly as its publish would, while every item id in the target workspace is a stand-in
(a uuid5 of workspace id, type and name) and any call to the Fabric API fails the run.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from altaviz.fabric.items import ITEM_TYPES, FabricItem, assemble

log = logging.getLogger("altaviz.fabric")

ENVIRONMENTS = ("DEV", "PROD")
ENV_REPLACEMENT_FLAG = "enable_environment_variable_replacement"


class DeployError(RuntimeError):
    pass


# ---------------------------------------------------------------- wheel


def build_wheel(repo: Path, out_dir: Path) -> Path:
    """``pip wheel`` of lib/ (the same wheel ``make setup`` installs), without dependencies."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("altaviz-*.whl"):
        old.unlink()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "--wheel-dir",
        str(out_dir),
        str(repo / "lib"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DeployError(f"building the altaviz wheel failed:\n{done.stdout}\n{done.stderr}")
    wheels = sorted(out_dir.glob("altaviz-*.whl"))
    if len(wheels) != 1:
        raise DeployError(f"expected one altaviz wheel in {out_dir}, found {[w.name for w in wheels]}")
    return wheels[0]


# ---------------------------------------------------------------- credentials


def credential() -> Any:
    """A service principal from ``AZURE_CLIENT_ID`` / ``AZURE_TENANT_ID`` / ``AZURE_CLIENT_SECRET``
    (CI), otherwise the developer's Azure CLI login (``az login``)."""
    from azure.identity import AzureCliCredential, ClientSecretCredential

    names = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
    if all(os.environ.get(n) for n in names):
        log.info("authenticating as service principal %s", os.environ["AZURE_CLIENT_ID"])
        return ClientSecretCredential(*(os.environ[n] for n in names))
    log.info("authenticating with the Azure CLI login (set %s for a service principal)", ", ".join(names))
    return AzureCliCredential()


class OfflineCredential:
    """A TokenCredential for the dry run: a token no service would accept, and no network call."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("altaviz-dry-run-not-a-token", int(time.time()) + 3600)


def _refuse_api_call(*args: Any, **kwargs: Any) -> Any:
    raise DeployError(f"dry run tried to call the Fabric API: {kwargs.get('method', '')} {kwargs.get('url', '')}")


# ---------------------------------------------------------------- plan (dry run)


@dataclass
class PlannedFile:
    path: str
    kind: str  # "text" or a binary type such as "binary"
    size: int
    changes: list[tuple[str, str]] = field(default_factory=list)  # (before line, after line)


@dataclass
class PlannedItem:
    type: str
    name: str
    folder: str
    logical_id: str
    target_id: str
    files: list[PlannedFile] = field(default_factory=list)


@dataclass
class DeployPlan:
    workspace_id: str
    environment: str
    stage: Path
    items: list[PlannedItem] = field(default_factory=list)

    def item(self, item_type: str, name: str) -> PlannedItem:
        return next(i for i in self.items if i.type == item_type and i.name == name)

    def render(self) -> str:
        out = [
            f"dry run: would publish {len(self.items)} items from {self.stage}",
            f"  to workspace {self.workspace_id}, environment {self.environment}, with fabric-cicd "
            "(ids of items in the target workspace are stand-ins until Fabric assigns them)",
        ]
        for n, item in enumerate(self.items, start=1):
            out.append(f"{n}. {item.type} {item.name}  (folder /{item.folder}, logicalId {item.logical_id})")
            for f in item.files:
                note = f"{f.kind}, {f.size:,} bytes"
                out.append(f"     {f.path}  [{note}]" + (f"  {len(f.changes)} replacement(s)" if f.changes else ""))
                for before, after in f.changes:
                    out.append(f"       - {before.strip()}")
                    out.append(f"       + {after.strip()}")
        return "\n".join(out)


def placeholder_id(workspace_id: str, item_type: str, name: str) -> str:
    """Stand-in for the id Fabric will give an item: stable, GUID-shaped, obviously derived."""
    return str(uuid.uuid5(uuid.UUID(workspace_id), f"altaviz-dry-run/{item_type}/{name}"))


def _normalized(text: str) -> list[str]:
    """Lines to compare; JSON is pretty-printed first, since key_value_replace re-serializes it."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        return text.splitlines()


def _line_changes(before: str, after: str) -> list[tuple[str, str]]:
    old, new = _normalized(before), _normalized(after)
    changes = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        for k in range(max(len(removed), len(added))):
            changes.append((removed[k] if k < len(removed) else "", added[k] if k < len(added) else ""))
    return changes


def _enable_env_replacement() -> None:
    from fabric_cicd import append_feature_flag

    append_feature_flag(ENV_REPLACEMENT_FLAG)


def _workspace(stage: Path, workspace_id: str, environment: str, token_credential: Any) -> Any:
    from fabric_cicd import FabricWorkspace

    _enable_env_replacement()  # parameter.yml reads SQL server names etc. from $ENV: variables
    return FabricWorkspace(
        workspace_id=workspace_id,
        environment=environment,
        repository_directory=str(stage),
        item_type_in_scope=list(ITEM_TYPES),
        token_credential=token_credential,
    )


def _publish_order(workspace: Any) -> Iterator[tuple[str, str, Any]]:
    from fabric_cicd import constants

    for item_type in constants.SERIAL_ITEM_PUBLISH_ORDER.values():
        for name, item in sorted(workspace.repository_items.get(item_type.value, {}).items()):
            yield item_type.value, name, item


def plan(stage: Path, workspace_id: str, environment: str) -> DeployPlan:
    """What ``publish`` would send, file by file, with fabric-cicd's replacements applied; no Azure."""
    from fabric_cicd._common._item import Item
    from fabric_cicd._items._environment import _process_environment_file

    workspace = _workspace(stage, workspace_id, environment, OfflineCredential())
    workspace.endpoint.invoke = _refuse_api_call
    workspace._refresh_repository_items()

    # Pretend every repository item is already deployed, under a stand-in id.
    workspace.deployed_items, workspace.workspace_items = {}, {}
    for item_type, name, item in _publish_order(workspace):
        item.guid = placeholder_id(workspace_id, item_type, name)
        workspace.deployed_items.setdefault(item_type, {})[name] = Item(item_type, name, item.description, item.guid)
        workspace.workspace_items.setdefault(item_type, {})[name] = {
            "id": item.guid,
            "sqlendpoint": "",
            "sqlendpointid": "",
            "queryserviceuri": "",
        }
    workspace._refresh_deployed_items = lambda: None  # $items.* resolve against the stand-ins above

    result = DeployPlan(workspace_id=workspace.workspace_id, environment=environment, stage=stage)
    for item_type, name, item in _publish_order(workspace):
        planned = PlannedItem(item_type, name, item.folder_path.strip("/"), item.logical_id, item.guid)
        for file in sorted(item.item_files, key=lambda f: f.relative_path):
            if file.type != "text":
                planned.files.append(PlannedFile(file.relative_path, file.type, len(file.contents)))
                continue
            before = file.contents
            if not file.relative_path.endswith(".platform"):
                # The same steps, in the same order, as FabricWorkspace._publish_item.
                if item_type == "Environment":
                    file.contents = _process_environment_file(workspace, item, file)
                file.contents = workspace._replace_logical_ids(file.contents)
                file.contents = workspace._replace_parameters(file, item)
                file.contents = workspace._replace_workspace_ids(file.contents, item)
            planned.files.append(
                PlannedFile(
                    file.relative_path,
                    "text",
                    len(file.contents.encode()),
                    _line_changes(before, file.contents),
                )
            )
        result.items.append(planned)
    return result


# ---------------------------------------------------------------- publish


def publish(stage: Path, workspace_id: str, environment: str, token_credential: Any) -> Any:
    """Publishes the assembled items with fabric-cicd (creates or updates; never deletes)."""
    from fabric_cicd import publish_all_items

    workspace = _workspace(stage, workspace_id, environment, token_credential)
    return publish_all_items(workspace)


@dataclass
class DeployResult:
    stage: Path
    wheel: Path | None
    items: list[FabricItem]
    plan: DeployPlan | None = None
    response: Any = None


def deploy(
    repo: Path,
    workspace_id: str,
    environment: str,
    *,
    dry_run: bool = False,
    stage: Path | None = None,
    wheel: Path | None = None,
    build: bool = True,
) -> DeployResult:
    """Builds the wheel (unless given one, or ``build`` is off), assembles the items under
    ``stage`` (default ``dist/fabric/<ENV>``) and publishes them, or only plans when ``dry_run``."""
    environment = environment.upper()
    if environment not in ENVIRONMENTS:
        raise DeployError(f"environment must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    try:
        uuid.UUID(workspace_id)
    except ValueError as err:
        raise DeployError(f"--workspace-id must be a GUID, got {workspace_id!r}") from err
    repo = repo.resolve()
    stage = (stage or repo / "dist" / "fabric" / environment).resolve()
    if wheel is None and build:
        wheel = build_wheel(repo, stage.parent / "wheel")
        log.info("built %s", wheel.name)
    items = assemble(repo, stage, wheel)
    if dry_run:
        return DeployResult(stage, wheel, items, plan=plan(stage, workspace_id, environment))
    return DeployResult(stage, wheel, items, response=publish(stage, workspace_id, environment, credential()))
