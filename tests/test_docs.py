"""Docs that must match the code they describe."""

from pathlib import Path

from altaviz.config import load_config
from altaviz.schemas import TABLES

REPO = Path(__file__).resolve().parents[1]


def test_lakehouse_readme_lists_every_table_with_its_key_write_mode_and_partitioning():
    readme = (REPO / "lakehouse/README.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    for name, spec in TABLES.items():
        cells = [cell.strip() for cell in rows[name].split("|")[1:-1]]
        assert cells[1:4] == [", ".join(spec.key), spec.write, ", ".join(spec.partition_by) or "—"], name


def test_readme_names_every_validation_rule_and_the_two_commands():
    from altaviz.silver import RULES

    readme = (REPO / "README.md").read_text()
    assert all(f"`{rule}`" in readme for rule in RULES)
    assert "make run" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci/run").read_text()


def test_packaged_config_loads_and_names_thresholds_for_the_alerting_sensors():
    config = load_config()
    assert set(config.thresholds) == {
        "vibration_mms",
        "discharge_temp_f",
        "discharge_pressure_psi",
        "suction_pressure_psi",
    }
    assert (
        config.thresholds["discharge_temp_f"].warning == 330 and config.thresholds["discharge_temp_f"].critical == 350
    )
