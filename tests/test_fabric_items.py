"""Every committed Fabric item holds to the format Fabric Git integration writes and reads.

No Spark, no Azure: these read the repository's files.
"""

from __future__ import annotations

import json
import re
from graphlib import TopologicalSorter
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from altaviz import fabric_format
from altaviz.fabric.items import (
    ENVIRONMENT_ITEM,
    ITEM_FOLDERS,
    PUBLIC_LIBRARIES,
    FabricItem,
    ItemFormatError,
    find_items,
    read_platform,
)

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
NOTEBOOKS = ["01_simulate", "02_bronze", "03_silver", "04_gold", "07_score", "05_publish"]
OWN_PIPELINE_NOTEBOOKS = ["06_train", "08_maintain"]
ON_FAILURE = "09_record_failure"
MAINTENANCE = REPO / "pipelines/altaviz_maintenance.DataPipeline/pipeline-content.json"
TRAINING = REPO / "pipelines/altaviz_training.DataPipeline/pipeline-content.json"


@pytest.fixture(scope="module")
def items() -> list[FabricItem]:
    return find_items(REPO)


def by_type(items: list[FabricItem], item_type: str) -> dict[str, FabricItem]:
    return {i.name: i for i in items if i.type == item_type}


def notebook_source(name: str) -> str:
    return (REPO / f"notebooks/{name}.Notebook/notebook-content.py").read_text(encoding="utf-8")


def declared_parameters(name: str) -> set[str]:
    (cell,) = fabric_format.parse(notebook_source(name)).parameters_cells
    return {m.group(1) for m in re.finditer(r"^([A-Za-z_]\w*)\s*=", cell.source, re.MULTILINE)}


def pipeline() -> dict:
    return json.loads(PIPELINE.read_text(encoding="utf-8"))["properties"]


# ---------------------------------------------------------------- .platform


def test_every_item_folder_has_a_valid_platform_file_and_the_expected_items(items):
    assert {(i.type, i.name) for i in items} == {
        ("Lakehouse", "altaviz_lakehouse"),
        ("Environment", "altaviz_env"),
        ("DataPipeline", "altaviz_pipeline"),
        ("DataPipeline", "altaviz_maintenance"),
        ("DataPipeline", "altaviz_training"),
        *(("Notebook", n) for n in [*NOTEBOOKS, *OWN_PIPELINE_NOTEBOOKS, ON_FAILURE]),
        ("SemanticModel", "altaviz"),
    }
    # Every folder named like an item has a .platform (a folder without one is silently skipped by Fabric).
    for folder in ITEM_FOLDERS:
        for item_dir in (REPO / folder).iterdir():
            if item_dir.is_dir() and "." in item_dir.name:
                assert (item_dir / ".platform").is_file(), item_dir


def test_logical_ids_are_unique_guids(items):
    ids = [i.logical_id for i in items]
    assert all(GUID.match(i) and i != ZERO_GUID for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_read_platform_rejects_a_malformed_item(tmp_path):
    bad = tmp_path / "x.Notebook"
    bad.mkdir()
    (bad / ".platform").write_text(json.dumps({"metadata": {"type": "Notebook"}, "config": {}}))
    with pytest.raises(ItemFormatError, match="not a Fabric .platform"):
        read_platform(bad)
    good = json.loads((REPO / "notebooks/01_simulate.Notebook/.platform").read_text())
    (bad / ".platform").write_text(json.dumps(good))  # right content, wrong folder name
    with pytest.raises(ItemFormatError, match="folder must be named 01_simulate.Notebook"):
        read_platform(bad)


# ---------------------------------------------------------------- notebooks


@pytest.mark.parametrize("name", [*NOTEBOOKS, *OWN_PIPELINE_NOTEBOOKS, ON_FAILURE])
def test_notebook_parses_round_trips_and_has_one_parameters_cell(name):
    text = notebook_source(name)
    nb = fabric_format.parse(text)
    assert fabric_format.render(nb) == text, "notebook-content.py is not in canonical Fabric format"
    ipynb = fabric_format.to_ipynb(nb)
    nbformat.validate(ipynb)
    assert fabric_format.render(fabric_format.from_ipynb(ipynb)) == text, ".ipynb round trip changed the notebook"
    # Through a .ipynb file on disk too (nbformat sorts JSON keys, so compare content, not key order).
    from_disk = fabric_format.from_ipynb(nbformat.reads(nbformat.writes(ipynb), as_version=4))
    assert from_disk.metadata == nb.metadata
    assert [(c.kind, c.source, c.metadata) for c in from_disk.cells] == [
        (c.kind, c.source, c.metadata) for c in nb.cells
    ]
    assert len(nb.parameters_cells) == 1
    tagged = [c for c in ipynb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert "def " not in text, "notebooks stay thin: logic lives in the wheel"


# Notebooks that run their step cell by cell (all of them).
NARRATED = [
    "01_simulate",
    "02_bronze",
    "03_silver",
    "04_gold",
    "06_train",
    "07_score",
    "05_publish",
    "08_maintain",
    "09_record_failure",
]
# What a narrated notebook's code may call: the wheel's step functions and runtime helpers, print and
# the parameter casts, and the step object's finish(). Anything else (spark.read, F.col, df.filter)
# is logic that belongs in the wheel.
NOTEBOOK_MODULES = {"jobs", "runtime"}
STEP_METHODS = {"finish"}


def _calls_outside_the_wheel(source: str) -> list[str]:
    import ast

    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            found.append(f"{type(node).__name__} at line {node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module != "altaviz":
            found.append(f"import from {node.module}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("print", "int", "float"):
                continue
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.value.id in NOTEBOOK_MODULES or (func.value.id == "step" and func.attr in STEP_METHODS):
                    continue
            found.append(ast.unparse(func))
    return found


@pytest.mark.parametrize("name", NARRATED)
def test_a_narrated_notebook_says_what_each_cell_does_and_only_calls_the_wheel(name):
    nb = fabric_format.parse(notebook_source(name))
    code_cells = [i for i, c in enumerate(nb.cells) if c.kind == "code"]
    assert len(code_cells) >= 4, "a narrated notebook runs its step in several cells"
    for i in code_cells:
        assert nb.cells[i - 1].kind == "markdown", f"code cell {i} has no markdown cell before it"
        assert nb.cells[i - 1].source.strip(), f"markdown before code cell {i} is empty"
        outside = _calls_outside_the_wheel(nb.cells[i].source)
        assert not outside, f"cell {i} does more than call into altaviz: {outside}"
    first, last = nb.cells[code_cells[0]].source, nb.cells[code_cells[-1]].source
    assert f'jobs.open_step(spark, "{name}"' in first, "the first cell opens the step"
    assert "runtime.exit_notebook(result)" in last, "the last cell ends with the step's summary"
    if name != ON_FAILURE:  # the on-failure path records the failed steps, not one of its own
        assert "result = step.finish()" in notebook_source(name), "the step is recorded once all else ran"


@pytest.mark.parametrize("name", NARRATED)
def test_a_narrated_notebook_has_a_write_parameter_that_defaults_to_true_and_is_passed_on(name):
    assert "write" in declared_parameters(name)
    (cell,) = fabric_format.parse(notebook_source(name)).parameters_cells
    assert re.search(r"^write = True\b", cell.source, re.MULTILINE)
    assert "write=write" in notebook_source(name)


@pytest.mark.parametrize("name", NARRATED)
def test_run_step_calls_the_step_functions_its_notebook_calls_in_the_same_order(name):
    import ast
    import inspect

    from altaviz import jobs

    run = {
        "01_simulate": jobs.run_simulate,
        "02_bronze": jobs.run_bronze,
        "03_silver": jobs.run_silver,
        "04_gold": jobs.run_gold,
        "06_train": jobs.run_train,
        "07_score": jobs.run_score,
        "05_publish": jobs.run_publish,
        "08_maintain": jobs.run_maintain,
        "09_record_failure": jobs.run_record_failure,
    }[name]

    def step_calls(tree: ast.AST) -> list[str]:
        calls = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in STEP_FUNCTIONS[name]:
                    calls.append((node.lineno, called))
        return [c for _, c in sorted(calls)]

    nb = fabric_format.parse(notebook_source(name))
    in_notebook = step_calls(ast.parse("\n".join(c.source for c in nb.cells if c.kind == "code")))
    in_run = step_calls(ast.parse(inspect.getsource(run).strip()))
    assert in_notebook == in_run == STEP_FUNCTIONS[name]


STEP_FUNCTIONS = {
    "01_simulate": ["open_step", "plan_simulation", "simulate_batch", "land_batch", "finish"],
    "02_bronze": ["open_step", "land_new_deliveries", "record_landing", "record_bronze_quality", "finish"],
    "03_silver": [
        "open_step",
        "refresh_registries",
        "refresh_work_orders",
        "judge_new_readings",
        "record_rule_counts",
        "record_silver_quality",
        "finish",
    ],
    "04_gold": ["open_step", "recompute_gold", "record_gold_quality", "summarise_alerts", "finish"],
    "06_train": ["open_step", "training_tables", "train_model", "finish"],
    "07_score": ["open_step", "promoted_model", "features_to_score", "score_hours", "write_predictions", "finish"],
    "08_maintain": ["open_step", "vacuum_retention", "tables_to_maintain", "compact_and_vacuum", "finish"],
    "09_record_failure": ["open_step", "failed_steps", "record_failed_steps", "open_serving", "publish_run_log"],
    "05_publish": [
        "open_step",
        "open_serving",
        "publish_changes",
        "finish",
        "publish_run_log",
        "refresh_serving_models",
    ],
}


@pytest.mark.parametrize("name", [*NOTEBOOKS, *OWN_PIPELINE_NOTEBOOKS, ON_FAILURE])
def test_notebook_metadata_names_the_default_lakehouse_and_the_environment(name, items):
    meta = fabric_format.parse(notebook_source(name)).metadata
    assert meta["kernel_info"]["name"] == "synapse_pyspark"
    lakehouse = by_type(items, "Lakehouse")["altaviz_lakehouse"]
    environment = by_type(items, "Environment")["altaviz_env"]
    deps = meta["dependencies"]
    assert deps["lakehouse"]["default_lakehouse"] == lakehouse.logical_id
    assert deps["lakehouse"]["default_lakehouse_name"] == lakehouse.name
    assert deps["lakehouse"]["default_lakehouse_workspace_id"] == ZERO_GUID
    assert [k["id"] for k in deps["lakehouse"]["known_lakehouses"]] == [lakehouse.logical_id]
    assert deps["environment"] == {"environmentId": environment.logical_id, "workspaceId": ZERO_GUID}


def test_fabric_format_rejects_text_that_is_not_notebook_source():
    with pytest.raises(fabric_format.FabricFormatError):
        fabric_format.parse("print('hello')\n")


# ---------------------------------------------------------------- pipeline


def test_every_activity_runs_an_existing_notebook_with_only_declared_parameters(items):
    notebooks_by_id = {i.logical_id: i.name for i in by_type(items, "Notebook").values()}
    props = pipeline()
    seen = []
    for activity in props["activities"]:
        if activity["type"] == "Fail":
            continue
        assert activity["type"] == "TridentNotebook"
        type_props = activity["typeProperties"]
        assert type_props["workspaceId"] == ZERO_GUID
        notebook = notebooks_by_id.get(type_props["notebookId"])
        assert notebook is not None, f"{activity['name']} runs unknown notebook {type_props['notebookId']}"
        assert notebook == activity["name"], "activity and notebook names differ"
        passed = set(type_props.get("parameters", {}))
        undeclared = passed - declared_parameters(notebook)
        assert not undeclared, f"{activity['name']} passes parameters {notebook} does not declare: {undeclared}"
        seen.append(notebook)
    assert sorted(seen) == sorted([*NOTEBOOKS, ON_FAILURE])


def test_the_maintenance_pipeline_runs_08_maintain_with_its_declared_parameters(items):
    props = json.loads(MAINTENANCE.read_text(encoding="utf-8"))["properties"]
    (activity,) = props["activities"]
    notebook = by_type(items, "Notebook")["08_maintain"]
    assert activity["name"] == "08_maintain" and activity["typeProperties"]["notebookId"] == notebook.logical_id
    assert set(activity["typeProperties"]["parameters"]) <= declared_parameters("08_maintain")
    used = set(re.findall(r"@pipeline\(\)\.parameters\.(\w+)", json.dumps(props["activities"])))
    assert used == set(props["parameters"]) == {"retention_hours"}


def test_the_training_pipeline_runs_06_train_with_its_declared_parameters(items):
    props = json.loads(TRAINING.read_text(encoding="utf-8"))["properties"]
    (activity,) = props["activities"]
    notebook = by_type(items, "Notebook")["06_train"]
    assert activity["name"] == "06_train" and activity["typeProperties"]["notebookId"] == notebook.logical_id
    assert set(activity["typeProperties"]["parameters"]) <= declared_parameters("06_train")
    used = set(re.findall(r"@pipeline\(\)\.parameters\.(\w+)", json.dumps(props["activities"])))
    assert used == set(props["parameters"]) == {"training_data"}


def test_pipeline_expressions_only_use_declared_pipeline_parameters():
    props = pipeline()
    declared = set(props["parameters"])
    used = set(re.findall(r"@pipeline\(\)\.parameters\.(\w+)", json.dumps(props["activities"])))
    assert used <= declared, f"undeclared pipeline parameters: {used - declared}"
    # fleet size, run date and target database are pipeline parameters
    assert {
        "n_compressors",
        "run_date",
        "serving_target",
        "sql_server",
        "sql_database",
        "semantic_model",
    } <= declared


def test_depends_on_is_a_chain_from_01_to_05_with_an_on_failure_path():
    activities = pipeline()["activities"]
    graph = {a["name"]: {d["activity"] for d in a["dependsOn"]} for a in activities}
    assert list(TopologicalSorter(graph).static_order()) == [*NOTEBOOKS, ON_FAILURE, "run_failed"]
    conditions = {(a["name"], d["activity"]): d["dependencyConditions"] for a in activities for d in a["dependsOn"]}
    assert conditions == {
        ("02_bronze", "01_simulate"): ["Succeeded"],
        ("03_silver", "02_bronze"): ["Succeeded"],
        ("04_gold", "03_silver"): ["Succeeded"],
        ("07_score", "04_gold"): ["Succeeded"],
        ("05_publish", "07_score"): ["Succeeded"],
        # Any failure reaches the last activity as Failed (it failed) or Skipped (an earlier one did).
        (ON_FAILURE, "05_publish"): ["Failed", "Skipped"],
        ("run_failed", ON_FAILURE): ["Completed"],
    }
    fail = next(a for a in activities if a["name"] == "run_failed")
    assert fail["type"] == "Fail" and fail["typeProperties"]["errorCode"]


def test_the_on_failure_path_gets_every_activity_error_and_the_serving_settings():
    activities = {a["name"]: a for a in pipeline()["activities"]}
    params = activities[ON_FAILURE]["typeProperties"]["parameters"]
    for name in NOTEBOOKS:
        assert params[f"error_{name}"]["value"]["value"] == f"@coalesce(activity('{name}').error?.message, '')"
    serving = set(activities["05_publish"]["typeProperties"]["parameters"]) - {"semantic_model"}
    assert serving <= set(params), "the failure is published where 05_publish publishes"
    for name, spec in params.items():
        if name in serving:
            assert spec == activities["05_publish"]["typeProperties"]["parameters"][name]
    assert set(params) <= declared_parameters(ON_FAILURE)


def test_publish_passes_the_semantic_model_and_every_azure_sql_setting():
    from altaviz.publish.azure_sql import NOTEBOOK_PARAMETERS

    publish = next(a for a in pipeline()["activities"] if a["name"] == "05_publish")
    params = publish["typeProperties"]["parameters"]
    names = {"semantic_model", *NOTEBOOK_PARAMETERS}
    for name in names:
        assert params[name]["value"]["value"] == f"@pipeline().parameters.{name}"
        assert name in pipeline()["parameters"]
    assert names | {"target"} <= declared_parameters("05_publish")


# ---------------------------------------------------------------- lakehouse and environment


def test_lakehouse_item_is_a_lakehouse_without_schemas_where_tables_live_at_tables_name():
    # fabric-cicd creates a schema-enabled lakehouse when the metadata names a defaultSchema, and
    # there a table is Tables/<schema>/<name>; Altaviz addresses Tables/<name>.
    meta = json.loads((REPO / "lakehouse/altaviz_lakehouse.Lakehouse/lakehouse.metadata.json").read_text())
    assert "defaultSchema" not in meta
    from altaviz.lakehouse import Lakehouse

    assert Lakehouse("").table_path("gold_hourly_readings") == "Tables/gold_hourly_readings"


def test_environment_compute_is_a_valid_node_size_that_an_f2_capacity_can_run():
    compute = yaml.safe_load((REPO / ENVIRONMENT_ITEM / "Setting/Sparkcompute.yml").read_text())
    node_memory = {4: "28g", 8: "56g", 16: "112g", 32: "224g", 64: "400g"}  # Fabric's node sizes
    for role in ("driver", "executor"):
        assert node_memory[compute[f"{role}_cores"]] == compute[f"{role}_memory"], role
    allocation = compute["dynamic_executor_allocation"]
    assert 1 <= allocation["min_executors"] <= allocation["max_executors"]
    # F2: 2 capacity units = 4 Spark VCores, and a job may burst to 3×.
    most = compute["driver_cores"] + allocation["max_executors"] * compute["executor_cores"]
    assert most <= 3 * 4


def test_environment_item_pins_runtime_2_and_ships_environment_yml():
    env = REPO / ENVIRONMENT_ITEM
    compute = yaml.safe_load((env / "Setting/Sparkcompute.yml").read_text())
    assert str(compute["runtime_version"]) == "2.0"
    assert "instance_pool_id" not in compute, "a custom pool id does not carry across workspaces"
    assert (env / PUBLIC_LIBRARIES).read_bytes() == (REPO / "environment.yml").read_bytes(), (
        "the Environment item's environment.yml must equal the repository's environment.yml"
    )
    assert not list(env.rglob("*.whl")), "the wheel is built by `altaviz fabric deploy`, never committed"


def _pip_lines() -> list[str]:
    """environment.yml's pip lines as written, comments kept (a pin's reason is its comment)."""
    lines = (REPO / "environment.yml").read_text().splitlines()
    return [line.strip()[2:] for line in lines if line.startswith("      - ")]


def _pip_pins() -> dict[str, Requirement]:
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d)
    reqs = [Requirement(line) for line in pip]
    for r in reqs:
        assert len(r.specifier) == 1 and next(iter(r.specifier)).operator == "==", f"{r} is not an exact pin"
    return {r.name.lower(): r for r in reqs}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


RUNTIME_CONSTRAINTS = REPO / "lib/fabric-runtime-2.0-constraints.txt"


def _runtime() -> dict[str, str]:
    """Fabric Runtime 2.0's Python packages and versions (Microsoft's published list, as `make setup`
    applies it), plus pyspark, which the list has as Microsoft's own build of 4.1.1."""
    pins = {}
    for line in RUNTIME_CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            pins[_canonical(req.name)] = next(iter(req.specifier)).version
    return pins | {"pyspark": "4.1.1", "importlib-metadata": "8.8.0"}


def _project() -> dict:
    import tomllib

    return tomllib.loads((REPO / "lib/pyproject.toml").read_text())["project"]


def test_runtime_constraints_are_exact_pins_of_the_packages_the_wheel_and_models_rely_on():
    runtime = _runtime()
    for name, version in {
        "pandas": "2.3.3",
        "pyarrow": "24.0.0",
        "numpy": "2.4.1",
        "mlflow-skinny": "2.22.0",
        "lightgbm": "4.6.0",
        "pyodbc": "5.3.0",
        "scikit-learn": "1.6.1",
    }.items():
        assert runtime[name] == version, name
    for line in RUNTIME_CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert next(iter(Requirement(line).specifier)).operator == "==", line


def test_environment_yml_replaces_no_runtime_package_without_a_reason_on_its_line():
    runtime = _runtime()
    for line in _pip_lines():
        if line.startswith("#"):
            continue
        pin, _, reason = line.partition("#")
        name = _canonical(Requirement(pin.strip()).name)
        if name in runtime:
            assert reason.strip(), f"environment.yml replaces the runtime's {name}=={runtime[name]} without a reason"


def test_environment_yml_pins_what_the_wheel_needs_and_the_runtime_lacks():
    pins, runtime = _pip_pins(), _runtime()
    for line in _project()["dependencies"]:
        req = Requirement(line)
        name = _canonical(req.name)
        if name in runtime and name not in pins:
            assert req.specifier.contains(runtime[name]), f"the runtime's {name}=={runtime[name]} misses {req}"
            continue
        assert req.name.lower() in pins, f"environment.yml does not pin {req.name}, which the wheel requires"
        pinned = next(iter(pins[req.name.lower()].specifier)).version
        assert req.specifier.contains(pinned), f"environment.yml pins {req.name}=={pinned}, wheel needs {req.specifier}"
        assert pins[req.name.lower()].extras == req.extras
    assert not ({"pyspark", "delta-spark"} & set(pins)), "pyspark / delta-spark must come from the Fabric runtime"


def test_the_fabric_extra_pins_the_azure_sql_libraries_the_runtime_ships():
    # Azure SQL publishing runs in Fabric on the runtime's pyodbc and azure-identity: the `fabric`
    # extra installs those same versions elsewhere, and environment.yml does not replace them.
    pins, runtime = _pip_pins(), _runtime()
    extra = {Requirement(r).name.lower(): Requirement(r) for r in _project()["optional-dependencies"]["fabric"]}
    for name in ("pyodbc", "azure-identity"):
        assert str(extra[name].specifier) == f"=={runtime[name]}", name
        assert name not in pins, name


def test_lib_pins_runtime_packages_at_the_runtime_version_or_says_why():
    # A pin of a package Fabric Runtime 2.0 ships is the runtime's version, or its line says why not;
    # such a package is then left out of the constraints `make setup` applies, or setup could not resolve.
    runtime, constrained = _runtime(), RUNTIME_CONSTRAINTS.read_text()
    pin = re.compile(r'^\s*"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^"]+)",(.*)$')
    for line in (REPO / "lib/pyproject.toml").read_text().splitlines():
        m = pin.match(line)
        if not m or _canonical(m[1]) not in runtime:
            continue
        name, version, comment = _canonical(m[1]), m[2], m[3]
        if version != runtime[name]:
            assert "#" in comment and comment.split("#", 1)[1].strip(), (
                f"{name}=={version}: runtime has {runtime[name]}"
            )
            assert f"\n{name}==" not in constrained, f"{name} differs from the runtime yet is constrained to it"


def test_environment_yml_pins_the_rul_lstm_framework_like_the_predict_extra():
    # Fabric Runtime 2.0 ships no deep-learning framework: Keras and JAX must come from environment.yml.
    pins = _pip_pins()
    for line in _project()["optional-dependencies"]["predict"]:
        req = Requirement(line)
        assert req.name.lower() in pins, f"environment.yml does not pin {req.name} of the predict extra"
        assert str(pins[req.name.lower()].specifier) == str(req.specifier), req.name
