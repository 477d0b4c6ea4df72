"""The error codes the OpenAPI document lists as enums are every code the code base writes:
an answer's `error.code` (api/errors.py ERROR_CODES) and a task's (TaskErrorCode). A
generated client refuses a value its enum lacks, so a code added without its enum fails
here, not in a client."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from api.errors import ERROR_CODES
from models.domain.states import TaskErrorCode

ROOT = Path(__file__).resolve().parents[2]


def modules(*folders: str) -> Iterator[tuple[Path, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(), str(path))


def text(node: ast.AST | None, constants: dict[str, str]) -> str | None:
    """A string constant, or a module constant's value (ROOM_CLOSED = "ROOM_CLOSED")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def module_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def code_entries(tree: ast.Module, constants: dict[str, str]) -> Iterator[str]:
    """The values of `{"code": ...}` literals."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if text(key, {}) == "code" and (found := text(value, constants)):
                    yield found


def assigned_code(statement: ast.stmt, constants: dict[str, str]) -> str | None:
    """`code = "X"` in a class body."""
    if not isinstance(statement, ast.Assign):
        return None
    if not any(isinstance(t, ast.Name) and t.id == "code" for t in statement.targets):
        return None
    return text(statement.value, constants)


def answer_codes() -> set[str]:
    """Codes an HTTP answer carries: DomainError classes' `code = ...`, `code=` arguments
    (Conflict), error_response(status, code, ...), and the API's own error literals.
    error_response(exc.status, exc.code, ...) passes a class's code on: no literal."""
    found: set[str | None] = set()
    for path, tree in modules("api", "models"):
        constants = module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found.update(assigned_code(statement, constants) for statement in node.body)
            if isinstance(node, ast.Call):
                found.update(text(k.value, constants) for k in node.keywords if k.arg == "code")
                if called(node) == "error_response" and len(node.args) > 1:
                    found.add(text(node.args[1], constants))
        if path.is_relative_to(ROOT / "api"):
            found.update(code_entries(tree, constants))
    return {code for code in found if code is not None}


def task_codes() -> set[str]:
    """Codes a task's error carries: every Refusal's, and the error literals of models/."""
    found: set[str] = set()
    for _, tree in modules("models", "worker"):
        constants = module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and called(node) in {"Refusal", "_refusal"}:
                code = text(node.args[0], constants) if node.args else None
                if code is not None:
                    found.add(code)
        found.update(code_entries(tree, constants))
    return found


def test_every_answer_code_is_in_the_documented_enum() -> None:
    found = answer_codes()
    assert {"EMAIL_TAKEN", "NOT_WAITLISTED", "MALFORMED_JSON", "RATE_LIMITED"} <= found
    assert found <= set(ERROR_CODES), sorted(found - set(ERROR_CODES))
    assert len(set(ERROR_CODES)) == len(ERROR_CODES)


def test_every_task_error_code_is_in_the_documented_enum() -> None:
    found = task_codes()
    assert {"CONFLICT", "ROOM_CLOSED", "QUOTA_EXCEEDED", "WITHDRAWN", "INTERNAL_ERROR"} <= found
    assert found <= set(TaskErrorCode), sorted(found - set(TaskErrorCode))
