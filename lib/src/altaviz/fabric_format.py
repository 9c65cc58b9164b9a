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


# --- Working copies: a repository notebook opened in Jupyter, and the edits saved back ------------

_SOURCE_HASH_KEY = "altaviz_source_sha256"
# A cell added in Jupyter gets the metadata Fabric gives a new PySpark code cell.
_NEW_CODE_CELL_META = {"language": "python", "language_group": "synapse_pyspark"}


class StaleCopyError(RuntimeError):
    """A working copy and its repository notebook have both changed: saving or refreshing would lose one."""


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def working_copy(source_text: str) -> nbformat.NotebookNode:
    """The .ipynb a data engineer opens in Jupyter: the notebook as ``to_ipynb`` makes it, plus the
    hash of the source it came from, so ``save_working_copy`` can tell a concurrent change apart."""
    nb = to_ipynb(parse(source_text))
    nb.metadata[_SOURCE_HASH_KEY] = _sha256(source_text)
    return nb


def _notebook_of(nb: nbformat.NotebookNode) -> FabricNotebook:
    """The Fabric notebook a working copy stands for (outputs and execution counts are not source)."""
    clean = nbformat.from_dict(nb)
    clean.metadata.pop(_SOURCE_HASH_KEY, None)
    for cell in clean.cells:
        if cell.cell_type == "code" and "fabric" not in cell.metadata:
            cell.metadata["fabric"] = dict(_NEW_CODE_CELL_META)
    return from_ipynb(clean)


def _in_source_order(edited: FabricNotebook, original: FabricNotebook) -> FabricNotebook:
    """``edited`` with every metadata block that equals one of ``original``'s written in the original's
    key order (a saved .ipynb sorts keys): a save changes only the lines that were edited."""
    known = [original.metadata, *(c.metadata for c in original.cells if c.metadata is not None)]

    def ordered(meta: dict[str, Any] | None) -> dict[str, Any] | None:
        return next((m for m in known if m == meta), meta)

    cells = [FabricCell(c.kind, c.source, ordered(c.metadata)) for c in edited.cells]
    return FabricNotebook(metadata=ordered(edited.metadata) or {}, cells=cells)


def has_edits(nb: nbformat.NotebookNode, source_text: str) -> bool:
    """Whether the working copy's cells differ from the repository source it was opened from."""
    return _notebook_of(nb) != parse(source_text)


def save_working_copy(nb: nbformat.NotebookNode, source_text: str, *, force: bool = False) -> str:
    """The repository source with the working copy's cells (outputs dropped). Refused when the
    repository source changed since the copy was opened (a pull, another editor) unless ``force``.
    ``nb`` is marked as opened from the returned source, so the next save compares against it."""
    opened_from = nb.metadata.get(_SOURCE_HASH_KEY)
    if not force and opened_from is not None and opened_from != _sha256(source_text):
        raise StaleCopyError(
            "the repository notebook changed since this working copy was opened; "
            "save with force to overwrite it, or open a fresh copy (its edits are lost)"
        )
    original = parse(source_text)
    edited = _notebook_of(nb)
    saved = source_text if edited == original else render(_in_source_order(edited, original))
    nb.metadata[_SOURCE_HASH_KEY] = _sha256(saved)
    return saved
