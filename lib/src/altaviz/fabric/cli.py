"""``altaviz fabric …``: deploy the repository's Fabric items to a workspace."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

fabric_app = typer.Typer(help="Microsoft Fabric: list and deploy the Fabric items.", no_args_is_help=True)
console = Console()


class Environment(StrEnum):
    DEV = "DEV"
    PROD = "PROD"


@fabric_app.command("items")
def items_command(repo: Annotated[Path, typer.Option(help="Repository root.")] = Path(".")) -> None:
    """List the Fabric items committed in the repository."""
    from altaviz.fabric.items import find_items

    for item in find_items(repo.resolve()):
        console.print(f"{item.type:<13} {item.name:<18} {item.logical_id}  {item.path.relative_to(repo.resolve())}")


@fabric_app.command("deploy")
def deploy_command(
    workspace_id: Annotated[str, typer.Option("--workspace-id", help="Target Fabric workspace id (GUID).")],
    environment: Annotated[Environment, typer.Option("--environment", "-e", help="parameter.yml environment.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be published; no Azure call.")] = False,
    repo: Annotated[Path, typer.Option(help="Repository root.")] = Path("."),
    stage: Annotated[Path | None, typer.Option(help="Assembly folder (default dist/fabric/<ENV>).")] = None,
    wheel: Annotated[Path | None, typer.Option(help="Use this altaviz wheel instead of building one.")] = None,
) -> None:
    """Build the altaviz wheel, assemble the items and publish them with fabric-cicd.

    Authenticates with a service principal (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET)
    or, when those are not set, the Azure CLI login.
    """
    from altaviz.fabric.deploy import DeployError, deploy

    # fabric-cicd logs through its own handler; only altaviz's lines need one here.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[altaviz] %(message)s"))
    logging.getLogger("altaviz.fabric").addHandler(handler)
    logging.getLogger("altaviz.fabric").setLevel(logging.INFO)
    try:
        with console.status("building the wheel and assembling the items…"):
            result = deploy(repo, workspace_id, environment.value, dry_run=dry_run, stage=stage, wheel=wheel)
    except Exception as err:  # DeployError, or fabric-cicd's own (parameter file, token, API) errors
        if not isinstance(err, DeployError) and type(err).__module__.split(".")[0] != "fabric_cicd":
            raise
        console.print(f"[red]deploy failed:[/] {err}")
        raise typer.Exit(2) from err
    if result.plan is not None:
        console.print(result.plan.render(), markup=False, highlight=False, soft_wrap=True)
        return
    console.print(f"[green]published {len(result.items)} items[/] to workspace {workspace_id} ({environment.value})")
