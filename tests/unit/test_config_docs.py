"""docs/operations.md has the one table of the environment: exactly what the code reads.

What the code reads is found by running `load_settings` on an environment that records
every name asked of it, and by reading the product's sources for any other `os.environ`
read (a command that runs before, or without, the settings); the registry `VARIABLES`
(models/settings.py), from which `.env.example` is made, must be that same set. The
README only points at the table.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import pytest

import models.settings
from models.settings import VARIABLES, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
CONTRACT = ROOT / "docs" / "api.md"  # the contract's copy (test_docs checks it is verbatim)
PRODUCT = [
    ROOT / "celeryconfig.py",
    *(
        path
        for folder in ("api", "worker", "models", "cli")
        for path in (ROOT / folder).rglob("*.py")
    ),
]
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
REGISTERED = {v.name for v in VARIABLES}

# Variables the contract names before any code reads them (none today). Strict: once
# they are read and documented, their cases pass and fail the suite until removed here.
CONTRACT_AHEAD_OF_CODE: set[str] = set()


class RecordingEnviron(dict[str, str]):
    """An environment that remembers every name read from it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self.read.add(str(name))
        return super().__contains__(name)


class OsWith:
    """The os module as models/settings.py sees it, but with this environment."""

    def __init__(self, environ: RecordingEnviron) -> None:
        self.environ = environ

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def names_load_settings_reads(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    # Production with everything it requires, so that no check stops it before the end.
    environ = RecordingEnviron(
        {
            "BOOKINGS_ENV": "production",
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "REDIS_URL": "redis://h:6379/0",
            "SECRET_KEY": "x" * 32,
            "PUBLIC_URL": "https://rooms.example.com",
        }
    )
    monkeypatch.setattr(models.settings, "os", OsWith(environ))
    load_settings()
    return environ.read


def names_read_elsewhere() -> dict[str, str]:
    """Constant names read from os.environ (`os.environ[...]`, `.get`, `.setdefault`,
    `os.getenv`) anywhere in the product, and where."""
    found: dict[str, str] = {}
    for path in PRODUCT:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = _environ_read(node)
            if name is not None:
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
                found.setdefault(name, where)
    return found


def _is_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _environ_read(node: ast.AST) -> str | None:
    key: ast.AST | None = None
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        key = node.slice if _is_environ(node.value) else None
    elif isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
        func = node.func
        on_environ = func.attr in {"get", "setdefault", "pop"} and _is_environ(func.value)
        getenv = (
            func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"
        )
        key = node.args[0] if on_environ or getenv else None
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None


def section(path: Path, title: str) -> str:
    """The text under `## {title}`, up to the next `## ` heading."""
    text = path.read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{path.name} has no '## {title}' section"
    return match.group(1)


def table_rows(text: str) -> list[tuple[list[str], str]]:
    """`| `NAME` | meaning | default |` rows: the names of the first cell, the default."""
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((NAME.findall(cells[0]), cells[2]))
    return rows


@pytest.fixture(scope="module")
def documented() -> dict[str, str]:
    """docs/operations.md's configuration table: name -> its default cell."""
    rows = table_rows(section(OPERATIONS, "Configuration"))
    assert rows, "docs/operations.md: no configuration table"
    for names, _ in rows:
        assert len(names) == 1, f"one variable a row, not {names}"
    names = [names[0] for names, _ in rows]
    assert len(names) == len(set(names)), (
        f"listed twice: {sorted(n for n in names if names.count(n) > 1)}"
    )
    return {names[0]: default for names, default in rows}


def test_the_registry_is_what_the_code_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    by_settings = names_load_settings_reads(monkeypatch)
    elsewhere = names_read_elsewhere()
    assert "DATABASE_URL" in elsewhere, "the scan found nothing: is it looking in the right place?"
    unknown = {n: elsewhere.get(n, "load_settings") for n in by_settings | set(elsewhere)}
    for name in REGISTERED:
        unknown.pop(name, None)
    assert unknown == {}, "read (where) but not in models.settings.VARIABLES"
    assert REGISTERED - by_settings - set(elsewhere) == set(), "in VARIABLES, read by nothing"
    assert len(VARIABLES) == len(REGISTERED), "a variable registered twice"


def test_a_variable_with_a_settings_field_is_read_by_load_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_settings = names_load_settings_reads(monkeypatch)
    fields = {f.name for f in dataclasses.fields(Settings)}
    for variable in VARIABLES:
        if variable.field is not None:
            assert variable.field in fields, variable
            assert variable.name in by_settings, f"{variable.name}: load_settings never reads it"


def test_the_operations_table_lists_exactly_the_variables_the_code_reads(
    documented: dict[str, str],
) -> None:
    assert set(documented) - REGISTERED == set(), "documented but read by nothing"
    assert REGISTERED - set(documented) == set(), "read but missing from docs/operations.md"


def test_every_documented_default_is_the_settings_default(documented: dict[str, str]) -> None:
    """The table's default cell holds the value that gives the default, the one
    .env.example writes (test_env_example checks it is the default the settings take)."""
    for variable in VARIABLES:
        if variable.name not in documented:
            continue  # the test above names it
        cell = documented[variable.name].replace("`", "")
        if variable.default:
            pattern = rf"(?<![\w.]){re.escape(variable.default)}(?![\w.])"
            assert re.search(pattern, cell), (variable.name, variable.default, cell)
        else:
            assert cell, f"{variable.name}: say what happens when it is unset"


def contract_variables() -> list[str]:
    return sorted(
        {
            n
            for names, _ in table_rows(section(CONTRACT, "Configuration (environment)"))
            for n in names
        }
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                name in CONTRACT_AHEAD_OF_CODE,
                reason="Notifications by email: in the contract, not built yet",
                strict=True,
            ),
        )
        for name in contract_variables()
    ],
)
def test_every_variable_of_the_contract_is_in_the_table(
    name: str, documented: dict[str, str]
) -> None:
    assert name in documented


def test_the_contract_names_some_variables() -> None:
    assert {"DATABASE_URL", "SECRET_KEY", "PUBLIC_URL"} <= set(contract_variables())


def test_the_readme_points_at_the_table_and_lists_no_variables() -> None:
    readme = section(ROOT / "README.md", "Configuration")
    assert "docs/operations.md#configuration" in readme
    assert ".env.example" in readme
    assert table_rows(readme) == []
    mentioned = set(NAME.findall(readme)) & REGISTERED
    assert mentioned == set(), f"the README's configuration lists {sorted(mentioned)} again"
