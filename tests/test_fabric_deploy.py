"""`altaviz fabric deploy --dry-run`: the wheel is built, the items assembled, and fabric-cicd's own
parameter handling applied, without one call to Azure."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from altaviz.cli import app
from altaviz.fabric import deploy as fabric_deploy
from altaviz.fabric.items import (
    CUSTOM_LIBRARIES,
    ENVIRONMENT_ITEM,
    assemble,
    find_items,
)

REPO = Path(__file__).resolve().parents[1]
WORKSPACE = "8d7a1c2e-0f4b-4e1a-9c3d-5b6a7e8f9012"
ENV_VARS = {
    "ALTAVIZ_DEV_SQL_SERVER": "altaviz-dev.database.windows.net",
    "ALTAVIZ_DEV_SQL_DATABASE": "altaviz_dev",
    "ALTAVIZ_PROD_SQL_SERVER": "altaviz-prod.database.windows.net",
    "ALTAVIZ_PROD_SQL_DATABASE": "altaviz",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The real wheel, built once by the same function the deploy command uses."""
    return fabric_deploy.build_wheel(REPO, tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def sql_env(monkeypatch):
    for k, v in ENV_VARS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def no_azure(monkeypatch):
    """Any attempt to reach Azure (credentials or HTTP) fails the test."""

    def boom(*args, **kwargs):
        raise AssertionError("the dry run must not call Azure")

    monkeypatch.setattr(fabric_deploy, "credential", boom)
    monkeypatch.setattr(fabric_deploy, "publish", boom)
    import requests

    monkeypatch.setattr(requests.Session, "request", boom)
    monkeypatch.setattr(requests, "request", boom)


def test_wheel_carries_the_package_and_both_sql_schemas(wheel):
    assert re.fullmatch(r"altaviz-[\w.]+-py3-none-any\.whl", wheel.name)
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "altaviz/jobs.py",
        "altaviz/publish/azure_sql.py",
        "altaviz/fabric/deploy.py",
        "altaviz/sql/azure_sql/001_schema.sql",
        "altaviz/sql/postgres/001_schema.sql",
    ):
        assert needed in names


def test_assemble_copies_items_adds_the_wheel_and_leaves_the_repository_alone(tmp_path, wheel):
    before = sorted(p.relative_to(REPO) for p in (REPO / ENVIRONMENT_ITEM).rglob("*"))
    staged = assemble(REPO, tmp_path / "stage", wheel)
    assert {(i.type, i.name) for i in staged} == {(i.type, i.name) for i in find_items(REPO)}
    env = tmp_path / "stage" / ENVIRONMENT_ITEM
    assert (env / CUSTOM_LIBRARIES / wheel.name).read_bytes() == wheel.read_bytes()
    assert (tmp_path / "stage/parameter.yml").read_bytes() == (REPO / "parameter.yml").read_bytes()
    assert sorted(p.relative_to(REPO) for p in (REPO / ENVIRONMENT_ITEM).rglob("*")) == before


def _file(plan, item_type, name, path):
    return next(f for f in plan.item(item_type, name).files if f.path == path)


def test_dry_run_plans_every_item_in_publish_order_with_replacements(tmp_path, wheel, sql_env, no_azure):
    result = fabric_deploy.deploy(REPO, WORKSPACE, "DEV", dry_run=True, stage=tmp_path / "DEV", wheel=wheel)
    plan = result.plan
    assert [(i.type, i.name) for i in plan.items] == [
        ("Lakehouse", "altaviz_lakehouse"),
        ("Environment", "altaviz_env"),
        *(
            ("Notebook", n)
            for n in (
                "01_simulate",
                "02_bronze",
                "03_silver",
                "04_gold",
                "05_publish",
                "06_train",
                "07_score",
                "08_maintain",
                "09_record_failure",
            )
        ),
        ("SemanticModel", "altaviz"),  # after the lakehouse it reads, as fabric-cicd orders it
        ("DataPipeline", "altaviz_maintenance"),
        ("DataPipeline", "altaviz_pipeline"),
        ("DataPipeline", "altaviz_training"),
    ]
    lakehouse = plan.item("Lakehouse", "altaviz_lakehouse")
    environment = plan.item("Environment", "altaviz_env")
    assert lakehouse.target_id == fabric_deploy.placeholder_id(WORKSPACE, "Lakehouse", "altaviz_lakehouse")

    # The wheel goes out as the Environment's custom library, environment.yml as its public libraries.
    wheel_file = _file(plan, "Environment", "altaviz_env", f"Libraries/CustomLibraries/{wheel.name}")
    assert wheel_file.kind != "text" and wheel_file.size == wheel.stat().st_size
    assert _file(plan, "Environment", "altaviz_env", "Libraries/PublicLibraries/environment.yml").changes == []

    # Notebooks: default lakehouse, known lakehouse, environment and workspace re-pointed.
    after = dict(
        (b.strip(), a.strip()) for b, a in _file(plan, "Notebook", "05_publish", "notebook-content.py").changes
    )
    assert after['# META       "default_lakehouse": "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1100",'] == (
        f'# META       "default_lakehouse": "{lakehouse.target_id}",'
    )
    assert after['# META       "environmentId": "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1300",'] == (
        f'# META       "environmentId": "{environment.target_id}",'
    )
    assert f'# META       "default_lakehouse_workspace_id": "{WORKSPACE}",' in after.values()

    # Pipeline: each activity points at the notebook of its name in the target workspace.
    staged = json.loads((tmp_path / "DEV/pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json").read_text())
    pipeline_changes = _file(plan, "DataPipeline", "altaviz_pipeline", "pipeline-content.json").changes
    added = "\n".join(a for _, a in pipeline_changes)
    for activity in staged["properties"]["activities"]:
        if activity["type"] == "Fail":
            continue
        target = plan.item("Notebook", activity["name"]).target_id
        assert f'"notebookId": "{target}"' in added
    assert f'"workspaceId": "{WORKSPACE}"' in added
    assert '"defaultValue": "altaviz-dev.database.windows.net"' in added
    assert '"defaultValue": "azure_sql"' in added
    assert "0000-0000-0000-000000000000" not in added
    maintenance = "\n".join(
        a for _, a in _file(plan, "DataPipeline", "altaviz_maintenance", "pipeline-content.json").changes
    )
    assert f'"notebookId": "{plan.item("Notebook", "08_maintain").target_id}"' in maintenance
    assert f'"workspaceId": "{WORKSPACE}"' in maintenance


def test_prod_gets_prod_values(tmp_path, wheel, sql_env, no_azure):
    plan = fabric_deploy.deploy(REPO, WORKSPACE, "prod", dry_run=True, stage=tmp_path / "PROD", wheel=wheel).plan
    assert plan.environment == "PROD"
    added = [a.strip() for _, a in _file(plan, "DataPipeline", "altaviz_pipeline", "pipeline-content.json").changes]
    assert '"defaultValue": "altaviz-prod.database.windows.net"' in added
    staged = json.loads((tmp_path / "PROD/pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json").read_text())
    # 05_publish refreshes the semantic model deployed with the items.
    assert staged["properties"]["parameters"]["semantic_model"]["defaultValue"] == "altaviz"
    assert '"defaultValue": 100' in added  # PROD fleet size


def test_dry_run_fails_like_fabric_cicd_when_an_env_value_is_missing(tmp_path, wheel, sql_env, no_azure, monkeypatch):
    from fabric_cicd._common._exceptions import ParameterFileError

    monkeypatch.delenv("ALTAVIZ_PROD_SQL_SERVER")
    with pytest.raises(ParameterFileError):
        fabric_deploy.deploy(REPO, WORKSPACE, "PROD", dry_run=True, stage=tmp_path / "PROD", wheel=wheel)


def test_deploy_validates_its_arguments(tmp_path, wheel):
    with pytest.raises(fabric_deploy.DeployError, match="environment must be one of"):
        fabric_deploy.deploy(REPO, WORKSPACE, "TEST", dry_run=True, stage=tmp_path / "x", wheel=wheel)
    with pytest.raises(fabric_deploy.DeployError, match="must be a GUID"):
        fabric_deploy.deploy(REPO, "my-workspace", "DEV", dry_run=True, stage=tmp_path / "x", wheel=wheel)


def test_the_dry_run_workspace_refuses_api_calls(tmp_path, wheel, sql_env):
    stage = tmp_path / "DEV"
    assemble(REPO, stage, wheel)
    workspace = fabric_deploy._workspace(stage, WORKSPACE, "DEV", fabric_deploy.OfflineCredential())
    workspace.endpoint.invoke = fabric_deploy._refuse_api_call
    with pytest.raises(fabric_deploy.DeployError, match="dry run tried to call the Fabric API"):
        workspace._refresh_deployed_items()


def test_cli_dry_run_prints_the_plan(tmp_path, wheel, sql_env, no_azure):
    result = CliRunner().invoke(
        app,
        [
            "fabric",
            "deploy",
            "--workspace-id",
            WORKSPACE,
            "--environment",
            "DEV",
            "--dry-run",
            "--repo",
            str(REPO),
            "--stage",
            str(tmp_path / "DEV"),
            "--wheel",
            str(wheel),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "would publish 15 items" in result.output
    assert "Environment altaviz_env" in result.output and wheel.name in result.output
    assert "DataPipeline altaviz_pipeline" in result.output
    assert '+ "defaultValue": "altaviz-dev.database.windows.net"' in result.output


def test_cli_lists_items():
    result = CliRunner().invoke(app, ["fabric", "items", "--repo", str(REPO)])
    assert result.exit_code == 0, result.output
    assert "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1300" in result.output and "altaviz_env" in result.output
