"""The shipped type stubs of the C++ module describe what the module really has."""

from __future__ import annotations

import ast
from pathlib import Path

import rppg_sdk
from rppg_sdk import _core

STUB = Path(rppg_sdk.__file__).with_name("_core.pyi")


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def test_stub_lists_every_public_member_of_the_module() -> None:
    tree = _stub_tree()
    stub_names = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }
    module_names = {name for name in dir(_core) if not name.startswith("_")}
    assert stub_names == module_names


def test_stub_classes_have_the_module_attributes() -> None:
    tree = _stub_tree()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        stub_members = {
            n.name if isinstance(n, ast.FunctionDef) else n.target.id  # type: ignore[union-attr]
            for n in node.body
            if isinstance(n, ast.FunctionDef | ast.AnnAssign)
        } - {"__init__"}
        real = {name for name in dir(getattr(_core, node.name)) if not name.startswith("_")}
        assert stub_members == real, node.name


def test_package_is_typed() -> None:
    assert Path(rppg_sdk.__file__).with_name("py.typed").exists()
