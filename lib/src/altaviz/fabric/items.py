"""The Fabric items committed in the repository, in Fabric Git-integration format.

Each item is a folder ``<displayName>.<Type>`` holding a ``.platform`` file (type, display name,
logicalId) and the item's definition files. Fabric Git integration and fabric-cicd both find items
by their ``.platform``; so does everything here.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

# Top-level folders that hold items; anything else in the repository is not deployed.
ITEM_FOLDERS = ("lakehouse", "environments", "notebooks", "pipelines", "semantic_models")
ITEM_TYPES = ("Lakehouse", "Environment", "Notebook", "DataPipeline", "SemanticModel")
# The Power BI semantic model (TMDL, Direct Lake over the lakehouse) that 05_publish refreshes.
SEMANTIC_MODEL = "altaviz"
ENVIRONMENT_ITEM = Path("environments/altaviz_env.Environment")
PUBLIC_LIBRARIES = Path("Libraries/PublicLibraries/environment.yml")
CUSTOM_LIBRARIES = Path("Libraries/CustomLibraries")
PARAMETER_FILE = "parameter.yml"
ENVIRONMENT_FILE = "environment.yml"
PLATFORM_SCHEMA = (
    "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/2.0.0/schema.json"
)


class ItemFormatError(ValueError):
    """An item folder that Fabric Git integration would not accept."""


@dataclass(frozen=True)
class FabricItem:
    type: str
    name: str
    logical_id: str
    description: str
    path: Path  # the item folder

    @property
    def folder(self) -> str:
        """Repository-relative parent folder (a workspace folder after deployment)."""
        return self.path.parent.name


def read_platform(item_dir: Path) -> FabricItem:
    """The item described by ``item_dir/.platform``; raises ItemFormatError when it is malformed."""
    platform = item_dir / ".platform"
    try:
        data = json.loads(platform.read_text(encoding="utf-8"))
        meta, config = data["metadata"], data["config"]
        item = FabricItem(
            type=meta["type"],
            name=meta["displayName"],
            logical_id=config["logicalId"],
            description=meta.get("description", ""),
            path=item_dir,
        )
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise ItemFormatError(f"{platform}: not a Fabric .platform file: {err}") from err
    if data.get("$schema") != PLATFORM_SCHEMA or config.get("version") != "2.0":
        raise ItemFormatError(f"{platform}: expected $schema {PLATFORM_SCHEMA} and config.version 2.0")
    if item_dir.name != f"{item.name}.{item.type}":
        raise ItemFormatError(f"{platform}: folder must be named {item.name}.{item.type}, not {item_dir.name}")
    return item


def find_items(repo: Path) -> list[FabricItem]:
    """Every item under the item folders, sorted by folder then name."""
    found = []
    for folder in ITEM_FOLDERS:
        for platform in sorted((repo / folder).glob("*/.platform")):
            found.append(read_platform(platform.parent))
    return found


def assemble(repo: Path, stage: Path, wheel: Path | None) -> list[FabricItem]:
    """Copies the items and parameter.yml into ``stage`` (the folder fabric-cicd publishes from),
    writes the repository's environment.yml into the Environment item and adds ``wheel`` as its
    custom library. The repository itself is never written to."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for item in find_items(repo):
        shutil.copytree(
            item.path,
            stage / item.path.relative_to(repo),
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.whl"),
        )
    shutil.copy2(repo / PARAMETER_FILE, stage / PARAMETER_FILE)
    env_item = stage / ENVIRONMENT_ITEM
    (env_item / PUBLIC_LIBRARIES).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(repo / ENVIRONMENT_FILE, env_item / PUBLIC_LIBRARIES)
    if wheel is not None:
        (env_item / CUSTOM_LIBRARIES).mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, env_item / CUSTOM_LIBRARIES / wheel.name)
    return find_items(stage)
