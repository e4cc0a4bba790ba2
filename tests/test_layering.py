"""The layering contract's one rule import-linter cannot see: pipecat is used through its
public names only (no module or name beginning with an underscore)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "openrevox"


def private_pipecat_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipecat"):
            names = [*(node.module or "").split("."), *(alias.name for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [
                p for a in node.names if a.name.startswith("pipecat") for p in a.name.split(".")
            ]
        else:
            continue
        if any(name.startswith("_") for name in names):
            found.append(ast.unparse(node))
    return found


def test_the_check_sees_a_private_pipecat_name() -> None:
    assert private_pipecat_imports("from pipecat.audio.turn.smart_turn import _whisper_features")
    assert private_pipecat_imports("from pipecat.audio.vad.vad_analyzer import _helper")
    assert private_pipecat_imports("import pipecat._private")
    assert not private_pipecat_imports("from pipecat.audio.vad.vad_analyzer import VADState")


def test_no_module_of_ours_imports_a_private_pipecat_name() -> None:
    offenders = {
        str(path.relative_to(SRC)): found
        for path in sorted(SRC.rglob("*.py"))
        if (found := private_pipecat_imports(path.read_text()))
    }
    assert offenders == {}
