"""Fabric Git-integration notebook source (``notebook-content.py``) ⇄ Jupyter ``.ipynb``.

The repository stores notebooks the way Fabric writes them, so a workspace connected to the
repository sees real notebooks. The local runner converts them to .ipynb for papermill; the
parameters cell becomes a cell tagged ``parameters``, which is how papermill finds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import nbformat

HEADER = "# Fabric notebook source"
_STARS = " ********************"
MARKERS = {"code": "# CELL", "parameters": "# PARAMETERS CELL", "markdown": "# MARKDOWN"}
_METADATA = "# METADATA"
_JUPYTER_ONLY_KEYS = ("kernelspec", "language_info")
_LOCAL_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


class FabricFormatError(ValueError):
    """notebook-content.py that is not valid Fabric notebook source."""


@dataclass
class FabricCell:
    kind: str  # "code", "parameters" or "markdown"
    source: str
    metadata: dict[str, Any] | None = None


@dataclass
class FabricNotebook:
    metadata: dict[str, Any]
    cells: list[FabricCell] = field(default_factory=list)

    @property
    def parameters_cells(self) -> list[FabricCell]:
        return [c for c in self.cells if c.kind == "parameters"]


def _marker_kind(line: str) -> str | None:
    for kind, marker in MARKERS.items():
        if line == marker + _STARS:
            return kind
    if line == _METADATA + _STARS:
        return "metadata"
    return None


def parse(text: str) -> FabricNotebook:
    lines = text.splitlines()
    if not lines or lines[0] != HEADER:
        raise FabricFormatError(f"first line must be {HEADER!r}, got {lines[0] if lines else ''!r}")
    blocks: list[tuple[str, list[str], int]] = []
    for number, line in enumerate(lines[1:], start=2):
        kind = _marker_kind(line)
        if kind:
            blocks.append((kind, [], number))
        elif blocks:
            blocks[-1][1].append(line)
        elif line.strip():
            raise FabricFormatError(f"line {number}: content before the first marker: {line!r}")
    notebook: FabricNotebook | None = None
    for kind, body, number in blocks:
        content = "\n".join(body).strip("\n")
        if kind == "metadata":
            meta = _parse_meta(content, number)
            if notebook is None:
                notebook = FabricNotebook(metadata=meta)
            elif notebook.cells and notebook.cells[-1].metadata is None:
                notebook.cells[-1].metadata = meta
            else:
                raise FabricFormatError(f"line {number}: METADATA block with no cell to belong to")
            continue
        if notebook is None:
            raise FabricFormatError(f"line {number}: a cell before the notebook METADATA block")
        if kind == "markdown":
            content = "\n".join(_unprefix(line, number) for line in content.splitlines())
        notebook.cells.append(FabricCell(kind, content))
    if notebook is None:
        raise FabricFormatError("no notebook METADATA block")
    return notebook


def _unprefix(line: str, number: int) -> str:
    if line == "#":
        return ""
    if not line.startswith("# "):
        raise FabricFormatError(f"markdown cell near line {number}: every line must start with '# ': {line!r}")
    return line[2:]


def _parse_meta(content: str, number: int) -> dict[str, Any]:
    json_lines = []
    for line in content.splitlines():
        if not line.startswith("# META"):
            raise FabricFormatError(f"METADATA block at line {number}: line without '# META': {line!r}")
        json_lines.append(line[len("# META ") :] if line.startswith("# META ") else "")
    try:
        return json.loads("\n".join(json_lines))
    except json.JSONDecodeError as err:
        raise FabricFormatError(f"METADATA block at line {number}: invalid JSON: {err}") from err


def _meta_block(meta: dict[str, Any]) -> str:
    body = "\n".join(f"# META {line}" for line in json.dumps(meta, indent=2, ensure_ascii=False).splitlines())
    return f"{_METADATA}{_STARS}\n\n{body}\n"


def render(notebook: FabricNotebook) -> str:
    parts = [f"{HEADER}\n", _meta_block(notebook.metadata)]
    for cell in notebook.cells:
        source = cell.source
        if cell.kind == "markdown":
            source = "\n".join(f"# {line}" if line else "#" for line in source.splitlines())
        parts.append(f"{MARKERS[cell.kind]}{_STARS}\n\n{source}\n")
        if cell.metadata is not None:
            parts.append(_meta_block(cell.metadata))
    return "\n".join(parts)


def to_ipynb(notebook: FabricNotebook) -> nbformat.NotebookNode:
    """An executable Jupyter notebook; Fabric metadata is kept so ``from_ipynb`` restores it."""
    nb = nbformat.v4.new_notebook(
        metadata={**notebook.metadata, "kernelspec": _LOCAL_KERNELSPEC, "language_info": {"name": "python"}}
    )
    for cell in notebook.cells:
        meta: dict[str, Any] = {"fabric": cell.metadata} if cell.metadata is not None else {}
        if cell.kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.source, metadata=meta))
        else:
            if cell.kind == "parameters":
                meta["tags"] = ["parameters"]
            nb.cells.append(nbformat.v4.new_code_cell(cell.source, metadata=meta))
    for c in nb.cells:  # ids are random per conversion; stable ids keep diffs and round trips clean
        c["id"] = f"cell-{nb.cells.index(c)}"
    return nb


def from_ipynb(nb: nbformat.NotebookNode) -> FabricNotebook:
    metadata = {k: v for k, v in nb.metadata.items() if k not in _JUPYTER_ONLY_KEYS}
    cells = []
    for c in nb.cells:
        if "injected-parameters" in c.metadata.get("tags", []):
            continue  # papermill's injected values are run output, not source
        if c.cell_type == "markdown":
            kind = "markdown"
        else:
            kind = "parameters" if "parameters" in c.metadata.get("tags", []) else "code"
        cells.append(FabricCell(kind, c.source, c.metadata.get("fabric")))
    return FabricNotebook(metadata=metadata, cells=cells)
