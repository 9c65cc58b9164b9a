"""The Power BI semantic model item (TMDL, Direct Lake over the lakehouse) holds to its format and to
the lakehouse it reads: every column exists in the Delta table with a matching type, every measure
and relationship names columns that exist, and the deploy plan points it at the target lakehouse.

No Power BI engine runs here, so TMDL is read by a small structural parser (tab indentation,
``keyword name [= expression]`` objects, ``property: value`` lines, multi-line expressions one level
deeper); DAX is checked for the table, column and measure references it makes, not evaluated.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from altaviz.fabric import deploy as fabric_deploy
from altaviz.fabric.items import SEMANTIC_MODEL, find_items, read_platform
from altaviz.schemas import TABLES

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / f"semantic_models/{SEMANTIC_MODEL}.SemanticModel"
DEFINITION = MODEL / "definition"
LAKEHOUSE_LOGICAL_ID = "3f1c2a5e-7b1d-4c7e-9a51-0c1e5d7a1100"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
# Spark type of a Delta column → the TMDL dataType Direct Lake maps it to.
DELTA_TO_TMDL = {
    "string": "string",
    "double": "double",
    "float": "double",
    "int": "int64",
    "bigint": "int64",
    "smallint": "int64",
    "boolean": "boolean",
    "timestamp": "dateTime",
    "date": "dateTime",
}
# What an operations lead asked for, by measure name.
REQUIRED_MEASURES = {
    "Units by Health",
    "Active Alerts",
    "Active Critical Alerts",
    "Median Warning Lead Time (h)",
    "Average Warning Lead Time (h)",
    "Completeness %",
    "Consistency %",
    "Accuracy %",
    "Freshness (min)",
}


# ---------------------------------------------------------------- a structural TMDL reader


@dataclass
class TmdlObject:
    kind: str
    name: str
    expression: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    children: list[TmdlObject] = field(default_factory=list)

    def of(self, kind: str) -> list[TmdlObject]:
        return [c for c in self.children if c.kind == kind]


_NAME = r"(?:'(?:[^']|'')+'|[^\s='.]+)"
_OBJECT = re.compile(rf"^(?P<kind>[a-zA-Z]+)(?: (?P<name>{_NAME}))?(?: = ?(?P<expr>.*))?$")
_PROPERTY = re.compile(r"^(?P<key>[a-zA-Z]+): ?(?P<value>.*)$")
KNOWN_OBJECTS = {
    "database",
    "model",
    "table",
    "column",
    "measure",
    "partition",
    "relationship",
    "expression",
    "annotation",
    "source",
}


class TmdlError(ValueError):
    pass


def unquote(name: str) -> str:
    return name[1:-1].replace("''", "'") if name.startswith("'") else name


def parse_tmdl(text: str, where: str) -> list[TmdlObject]:
    """Top-level objects of one TMDL file; raises on anything that is not well-formed TMDL structure."""
    roots: list[TmdlObject] = []
    stack: list[tuple[int, TmdlObject]] = []  # (depth, object)
    expr_owner: tuple[int, TmdlObject] | None = None  # object whose multi-line expression is being read
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip("\t").startswith("///"):
            continue
        depth = len(raw) - len(raw.lstrip("\t"))
        line = raw[depth:]
        if expr_owner is not None and depth > expr_owner[0] + 1:
            # An expression's own lines (DAX, M) may indent further with spaces.
            owner = expr_owner[1]
            owner.expression += ("\n" if owner.expression else "") + line.rstrip()
            continue
        expr_owner = None
        if line.startswith(" "):
            raise TmdlError(f"{where}:{number}: indented with spaces, TMDL indents with tabs")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if parent is not None and depth != stack[-1][0] + 1:
            raise TmdlError(f"{where}:{number}: indented {depth} under an object at {stack[-1][0]}")
        prop = _PROPERTY.match(line)
        if prop and parent is not None:
            parent.properties[prop["key"]] = prop["value"].strip()
            continue
        ref = re.fullmatch(rf"ref ([a-zA-Z]+) ({_NAME})", line)
        if ref:  # ref table X: the model's ordering of its tables
            (parent.children if parent is not None else roots).append(TmdlObject("ref", unquote(ref[2]), ref[1]))
            continue
        obj = _OBJECT.match(line)
        if not obj or obj["kind"] not in KNOWN_OBJECTS:
            if parent is not None and re.fullmatch(r"[a-zA-Z]+", line):
                parent.flags.add(line)  # a boolean property such as isHidden
                continue
            raise TmdlError(f"{where}:{number}: not a TMDL object or property: {line!r}")
        node = TmdlObject(obj["kind"], unquote(obj["name"] or ""), (obj["expr"] or "").strip())
        (parent.children if parent is not None else roots).append(node)
        stack.append((depth, node))
        if obj["expr"] is not None and not obj["expr"].strip():
            expr_owner = (depth, node)  # "name =" with the expression on the following, deeper lines
    return roots


def model_files() -> dict[str, list[TmdlObject]]:
    return {
        str(p.relative_to(DEFINITION)): parse_tmdl(p.read_text(encoding="utf-8"), p.name)
        for p in sorted(DEFINITION.rglob("*.tmdl"))
    }


@pytest.fixture(scope="module")
def parsed() -> dict[str, list[TmdlObject]]:
    return model_files()


@pytest.fixture(scope="module")
def tables(parsed) -> dict[str, TmdlObject]:
    found = {}
    for path, objects in parsed.items():
        if path.startswith("tables/"):
            (table,) = objects
            assert table.kind == "table" and path == f"tables/{table.name}.tmdl", path
            found[table.name] = table
    return found


def delta_types(table: TmdlObject) -> dict[str, str]:
    (partition,) = table.of("partition")
    (source,) = partition.of("source")
    entity = source.properties["entityName"]
    assert entity in TABLES, f"{table.name}: partition reads {entity}, not a lakehouse table"
    return {f.name: f.dataType.simpleString() for f in TABLES[entity].schema.fields}


# ---------------------------------------------------------------- the parser itself


def test_the_tmdl_reader_rejects_what_is_not_tmdl():
    with pytest.raises(TmdlError, match="spaces"):
        parse_tmdl("table A\n    column b\n", "x")
    with pytest.raises(TmdlError, match="not a TMDL object"):
        parse_tmdl("table A\n\tcolumn b\n\t\tdataType string\n\t\t= what\n", "x")
    with pytest.raises(TmdlError, match="indented 2 under"):
        parse_tmdl("table A\n\t\tcolumn b\n", "x")
    (t,) = parse_tmdl("table 'A b'\n\tmeasure 'M' =\n\t\t\tSUM(\n\t\t\t  x)\n\t\tformatString: 0\n\tcolumn c\n", "x")
    assert t.name == "A b" and t.of("measure")[0].expression == "SUM(\n  x)"
    assert t.of("measure")[0].properties == {"formatString": "0"} and t.of("column")[0].name == "c"


# ---------------------------------------------------------------- item and definition files


def test_the_item_is_a_semantic_model_with_a_tmdl_definition():
    item = read_platform(MODEL)
    assert (item.type, item.name) == ("SemanticModel", SEMANTIC_MODEL)
    assert item.logical_id not in {i.logical_id for i in find_items(REPO) if i.path != MODEL}
    pbism = json.loads((MODEL / "definition.pbism").read_text(encoding="utf-8"))
    assert float(pbism["version"]) >= 4.0, "TMDL definitions need definition.pbism version 4.0 or later"
    assert not (MODEL / "model.bim").exists(), "one definition format: TMDL"
    for name in ("database.tmdl", "model.tmdl", "expressions.tmdl", "relationships.tmdl"):
        assert (DEFINITION / name).is_file(), name


def test_database_and_model_files(parsed):
    (database,) = parsed["database.tmdl"]
    assert database.kind == "database" and int(database.properties["compatibilityLevel"]) >= 1604  # Direct Lake
    model, *refs = parsed["model.tmdl"]
    assert model.kind == "model" and model.properties["culture"] == "en-US"
    assert {r.name for r in refs if r.kind == "ref"} == {p.stem for p in (DEFINITION / "tables").glob("*.tmdl")}


def test_the_direct_lake_source_is_the_altaviz_lakehouse_on_onelake(parsed):
    (expression,) = parsed["expressions.tmdl"]
    url = re.search(
        r'AzureStorage\.DataLake\("https://onelake\.dfs\.fabric\.microsoft\.com/([^/"]+)/([^/"]+)"',
        expression.expression,
    )
    assert url, expression.expression
    # Committed as the zero workspace and the lakehouse's logicalId, replaced on deployment.
    assert url.groups() == (ZERO_GUID, LAKEHOUSE_LOGICAL_ID)
    assert read_platform(REPO / "lakehouse/altaviz_lakehouse.Lakehouse").logical_id == LAKEHOUSE_LOGICAL_ID


def test_every_table_is_a_direct_lake_partition_over_a_lakehouse_table(tables, parsed):
    (expression,) = parsed["expressions.tmdl"]
    assert {
        delta_types(t) and t.of("partition")[0].of("source")[0].properties["entityName"] for t in tables.values()
    } == {
        "gold_hourly_readings",
        "gold_alert_episodes",
        "gold_data_quality",
        "silver_compressors",
        "silver_stations",
    }
    for table in tables.values():
        (partition,) = table.of("partition")
        assert partition.expression == "entity" and partition.properties["mode"] == "directLake", table.name
        source = partition.of("source")[0].properties
        assert unquote(source["expressionSource"]) == expression.name
        # The lakehouse has no schemas: tables live at Tables/<name>, so no schemaName.
        assert "schemaName" not in source, table.name


def test_every_column_exists_in_its_delta_table_with_the_direct_lake_type(tables):
    for table in tables.values():
        delta = delta_types(table)
        columns = table.of("column")
        assert columns, table.name
        for column in columns:
            source = column.properties["sourceColumn"]
            assert source in delta, f"{table.name}[{column.name}]: no column {source} in the Delta table"
            assert column.properties["dataType"] == DELTA_TO_TMDL[delta[source]], f"{table.name}[{column.name}]"
        assert {c.properties["sourceColumn"] for c in columns} == set(delta), f"{table.name}: columns left out"


def _references(dax: str) -> tuple[list[tuple[str, str]], list[str]]:
    """('Table'[column]) / Table[column] references, and bare [name] references, in a DAX expression."""
    without_strings = re.sub(r'"(?:[^"]|"")*"', '""', dax)
    qualified = [
        (unquote(t), c)
        for t, c in re.findall(r"('(?:[^']|'')+'|\b[A-Za-z_][A-Za-z0-9_]*)\[([^\]]+)\]", without_strings)
    ]
    bare = re.findall(r"(?<![\w'\]])\[([^\]]+)\]", without_strings)
    return qualified, bare


def test_every_measure_names_existing_tables_columns_and_measures(tables):
    columns = {(t.name, c.name) for t in tables.values() for c in t.of("column")}
    measures = {m.name for t in tables.values() for m in t.of("measure")}
    assert REQUIRED_MEASURES <= measures, REQUIRED_MEASURES - measures
    assert not (measures & set(tables)), "a measure named like a table"
    for table in tables.values():
        for measure in table.of("measure"):
            assert measure.expression, measure.name
            assert measure.properties.get("formatString"), measure.name
            qualified, bare = _references(measure.expression)
            for ref in qualified:
                assert ref in columns, f"[{measure.name}] refers to {ref[0]}[{ref[1]}], not a column of the model"
            # Bare [x]: a measure, or a column added in the expression itself (ADDCOLUMNS "@x").
            local = set(re.findall(r'"(@[^"]+)"', measure.expression))
            for name in bare:
                assert name in measures or name in local, f"[{measure.name}] refers to [{name}]"
            assert measure.expression.count("(") == measure.expression.count(")"), measure.name
            # Tables an iterator walks: a model table or a variable the expression declares and uses.
            variables = re.findall(r"\bVAR\s+(\w+)\s*=", measure.expression)
            for name in variables:
                uses = re.findall(rf"\b{name}\b", measure.expression)
                assert len(uses) > 1, f"[{measure.name}]: VAR {name} is never used"
            for arg in re.findall(
                r"\b(?:SUMX|AVERAGEX|MEDIANX|MAXX|MINX|COUNTX|FILTER|COUNTROWS|ADDCOLUMNS)\(\s*([A-Za-z_]\w*)\s*[,)]",
                measure.expression,
            ):
                assert arg in tables or arg in variables, f"[{measure.name}] iterates {arg}, not a table or VAR"


def test_the_measures_compute_what_their_names_say(tables):
    by_name = {m.name: m.expression for t in tables.values() for m in t.of("measure")}
    assert "'Alert Episodes'[is_active] = TRUE()" in by_name["Active Alerts"]
    assert '"critical"' in by_name["Active Critical Alerts"]
    lead = by_name["Median Warning Lead Time (h)"]
    assert "MEDIANX" in lead and "[escalated_at] - 'Alert Episodes'[opened_at]) * 24" in lead
    assert "[escalated_at] > 'Alert Episodes'[opened_at]" in lead, "episodes that opened critical have no lead time"
    assert "REMOVEFILTERS('Hourly Readings'[health_status])" in by_name["Units by Health"]
    for measure, metric in (
        ("Completeness %", "completeness_pct"),
        ("Consistency %", "consistency_pct"),
        ("Accuracy %", "accuracy_pct"),
        ("Freshness (min)", "freshness_minutes"),
    ):
        assert f"'Data Quality'[metric] = \"{metric}\"" in by_name[measure]


def test_relationships_join_existing_columns_many_to_one(parsed, tables):
    relationships = parsed["relationships.tmdl"]
    columns = {(t.name, c.name) for t in tables.values() for c in t.of("column")}
    keys = {(name, spec.key[0]) for name, spec in ((t.name, TABLES[delta_entity(t)]) for t in tables.values())}
    pairs = set()
    for rel in relationships:
        assert rel.kind == "relationship" and re.fullmatch(r"[0-9a-f-]{36}", rel.name)
        ends = []
        for side in ("fromColumn", "toColumn"):
            table, column = re.fullmatch(r"('(?:[^']|'')+'|[^.]+)\.(.+)", rel.properties[side]).groups()
            ends.append((unquote(table), column))
            assert ends[-1] in columns, f"{rel.name}: {side} {rel.properties[side]} is not a column"
        assert ends[1] in keys, f"{rel.name}: the one side {ends[1]} must be its table's key"
        pairs.add(tuple(ends))
    assert pairs == {
        (("Compressors", "station_id"), ("Stations", "station_id")),
        (("Hourly Readings", "compressor_id"), ("Compressors", "compressor_id")),
        (("Alert Episodes", "compressor_id"), ("Compressors", "compressor_id")),
    }


def delta_entity(table: TmdlObject) -> str:
    return table.of("partition")[0].of("source")[0].properties["entityName"]


# ---------------------------------------------------------------- deployment and refresh


WORKSPACE = "11111111-2222-3333-4444-555555555555"


def test_the_deploy_plan_points_the_model_at_the_target_lakehouse(tmp_path, monkeypatch):
    for env in ("DEV", "PROD"):
        monkeypatch.setenv(f"ALTAVIZ_{env}_SQL_SERVER", f"altaviz-{env.lower()}.database.windows.net")
        monkeypatch.setenv(f"ALTAVIZ_{env}_SQL_DATABASE", f"altaviz_{env.lower()}")
    result = fabric_deploy.deploy(REPO, WORKSPACE, "PROD", dry_run=True, stage=tmp_path / "PROD", build=False)
    plan = result.plan
    model = plan.item("SemanticModel", SEMANTIC_MODEL)
    lakehouse = plan.item("Lakehouse", "altaviz_lakehouse")
    assert [i.type for i in plan.items].index("SemanticModel") > [i.type for i in plan.items].index("Lakehouse")
    staged = (tmp_path / f"PROD/semantic_models/{SEMANTIC_MODEL}.SemanticModel/definition/expressions.tmdl").read_text()
    expressions = next(f for f in model.files if f.path == "definition/expressions.tmdl")
    after = "\n".join(a for _, a in expressions.changes)
    assert f"onelake.dfs.fabric.microsoft.com/{WORKSPACE}/{lakehouse.target_id}" in after
    assert ZERO_GUID not in after and LAKEHOUSE_LOGICAL_ID not in after
    assert LAKEHOUSE_LOGICAL_ID in staged, "the staged copy is what fabric-cicd reads; the plan shows the result"
    assert {f.path for f in model.files} >= {
        "definition.pbism",
        "definition/model.tmdl",
        "definition/tables/Hourly Readings.tmdl",
    }


def test_05_publish_and_the_pipeline_refresh_this_model_by_default():
    notebook = (REPO / "notebooks/05_publish.Notebook/notebook-content.py").read_text(encoding="utf-8")
    assert re.search(rf'^semantic_model = "{SEMANTIC_MODEL}"', notebook, re.MULTILINE)
    pipeline = json.loads((REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json").read_text())
    assert pipeline["properties"]["parameters"]["semantic_model"]["defaultValue"] == SEMANTIC_MODEL
