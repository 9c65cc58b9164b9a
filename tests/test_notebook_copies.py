"""``altaviz notebook open`` / ``save``: the repository's notebooks as Jupyter working copies, and
edits written back to Fabric's notebook-content.py without losing the Fabric metadata or anyone's
concurrent change."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from altaviz import fabric_format
from altaviz.cli import app

REPO = Path(__file__).resolve().parents[1]
cli = CliRunner()


@pytest.fixture
def folders(tmp_path):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", notebooks)
    return notebooks, tmp_path / "copies"


def _run(*args: str):
    return cli.invoke(app, [str(a) for a in args])


def _open(folders, *args: str):
    notebooks, copies = folders
    return _run("notebook", "open", *args, "--notebooks", notebooks, "--copies", copies)


def _save(folders, *args: str):
    notebooks, copies = folders
    return _run("notebook", "save", *args, "--notebooks", notebooks, "--copies", copies)


def _open_and_append_markdown(folders, name: str, text: str) -> Path:
    """Opens a working copy and adds a markdown cell to it, as an engineer's unsaved edit."""
    _open(folders, name)
    copy = folders[1] / f"{name}.ipynb"
    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, copy)
    return copy


def test_every_notebook_opens_as_a_jupyter_copy_that_reads_as_its_step(folders):
    notebooks, copies = folders
    result = _open(folders)
    assert result.exit_code == 0, result.output
    names = sorted(p.name.removesuffix(".Notebook") for p in notebooks.glob("*.Notebook"))
    assert sorted(p.stem for p in copies.glob("*.ipynb")) == names
    gold = nbformat.read(copies / "04_gold.ipynb", as_version=4)
    nbformat.validate(gold)
    assert [c.metadata.get("tags") for c in gold.cells if c.cell_type == "code"][0] == ["parameters"]
    # Narrated: every code cell after the parameters one follows a markdown cell saying what it does
    # (the last cell, the exit value, aside).
    kinds = [c.cell_type for c in gold.cells]
    first_code = kinds.index("code")
    calls = [i for i, k in enumerate(kinds) if k == "code" and i > first_code][:-1]
    assert len(calls) >= 4 and all(kinds[i - 1] == "markdown" for i in calls), kinds
    assert all(not c.outputs for c in gold.cells if c.cell_type == "code")


def test_an_edited_copy_is_saved_back_with_fabric_metadata_and_without_outputs(folders):
    notebooks, copies = folders
    _open(folders, "04_gold")
    source = notebooks / "04_gold.Notebook" / "notebook-content.py"
    before = source.read_text(encoding="utf-8")
    copy = copies / "04_gold.ipynb"
    nb = nbformat.read(copy, as_version=4)
    markdown = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## 1 ·"))
    markdown.source = markdown.source.replace("## 1 ·", "## 1 · (edited)")
    added = nbformat.v4.new_code_cell("features.count()")
    added.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "123"}, execution_count=1)]
    nb.cells.insert(nb.cells.index(markdown) + 2, added)
    nbformat.write(nb, copy)

    result = _save(folders, "04_gold")
    assert result.exit_code == 0, result.output
    after = source.read_text(encoding="utf-8")
    assert "# ## 1 · (edited)" in after and "features.count()" in after
    assert "123" not in after, "an output reached the repository notebook"
    # Only the edited lines change (a saved .ipynb sorts its keys; the repository's order is kept).
    removed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]
    assert removed == ["- # ## 1 · Recompute where silver gained readings"], removed
    saved = fabric_format.parse(after)
    new_cell = next(c for c in saved.cells if c.source == "features.count()")
    assert new_cell.kind == "code" and new_cell.metadata == {"language": "python", "language_group": "synapse_pyspark"}
    assert saved.metadata == fabric_format.parse(before).metadata  # the lakehouse and Environment bindings
    assert len(saved.cells) == len(fabric_format.parse(before).cells) + 1
    # The copy keeps its outputs and now stands for the saved source: saving again changes nothing.
    assert nbformat.read(copy, as_version=4).cells[nb.cells.index(added)].outputs
    again = _save(folders, "04_gold")
    assert again.exit_code == 0 and "no changes" in again.output
    assert source.read_text(encoding="utf-8") == after


def test_open_keeps_a_copy_with_unsaved_edits_unless_forced(folders):
    _, copies = folders
    copy = _open_and_append_markdown(folders, "03_silver", "my notes")

    kept = _open(folders, "03_silver")
    assert kept.exit_code == 1 and "not saved back" in kept.output
    assert nbformat.read(copy, as_version=4).cells[-1].source == "my notes"
    # A copy that was only run (outputs, no edits) is refreshed without complaint.
    assert _open(folders, "05_publish").exit_code == 0
    run = nbformat.read(copies / "05_publish.ipynb", as_version=4)
    ran = next(c for c in run.cells if c.cell_type == "code")
    ran.outputs = [nbformat.v4.new_output("stream", text="ran")]
    ran.execution_count = 1
    nbformat.write(run, copies / "05_publish.ipynb")
    assert _open(folders, "05_publish").exit_code == 0

    forced = _open(folders, "03_silver", "--force")
    assert forced.exit_code == 0
    assert nbformat.read(copy, as_version=4).cells[-1].source != "my notes"


def test_save_refuses_when_the_repository_notebook_changed_since_the_copy_was_opened(folders):
    notebooks, _ = folders
    _open_and_append_markdown(folders, "02_bronze", "my change")
    source = notebooks / "02_bronze.Notebook" / "notebook-content.py"
    pulled = source.read_text(encoding="utf-8").replace("# # 02 · Bronze", "# # 02 · Bronze (pulled)")
    assert pulled != source.read_text(encoding="utf-8")
    source.write_text(pulled, encoding="utf-8")

    refused = _save(folders, "02_bronze")
    assert refused.exit_code == 1 and "changed since this working copy was opened" in refused.output
    assert source.read_text(encoding="utf-8") == pulled

    forced = _save(folders, "02_bronze", "--force")
    assert forced.exit_code == 0
    assert "my change" in source.read_text(encoding="utf-8") and "(pulled)" not in source.read_text(encoding="utf-8")


def test_unknown_notebooks_are_named(folders):
    result = _open(folders, "04_golden")
    assert result.exit_code == 2 and "04_golden" in result.output and "04_gold" in result.output
