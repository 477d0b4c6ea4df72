""".env.example is generated from the settings and must stay in step with them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cli import env_example
from cli.env_example import ENV_EXAMPLE_PATH, render
from models.settings import VARIABLES, Variable, load_settings

REQUIRED = {
    "BOOKINGS_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://u@h/db",
    "REDIS_URL": "redis://h:6379/0",
    "SECRET_KEY": "x" * 32,
    "PUBLIC_URL": "https://rooms.example.com",
}


def test_the_committed_file_is_what_the_settings_give() -> None:
    assert ENV_EXAMPLE_PATH.is_file(), f"{ENV_EXAMPLE_PATH} is missing: run make env-example"
    assert ENV_EXAMPLE_PATH.read_text() == render(), "out of date: run make env-example"


def test_check_says_when_the_file_drifts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".env.example"
    monkeypatch.setattr(env_example, "ENV_EXAMPLE_PATH", path)
    assert env_example.main(["--check"]) == 1  # missing
    assert env_example.main([]) == 0
    assert path.read_text() == render()
    assert env_example.main(["--check"]) == 0
    path.write_text(render().replace("BOOKINGS_SHARDS=8", "BOOKINGS_SHARDS=9"))
    assert env_example.main(["--check"]) == 1
    assert "run make env-example" in capsys.readouterr().err


def test_every_variable_has_its_meaning_its_default_and_a_commented_assignment() -> None:
    text = render()
    for variable in VARIABLES:
        block = text.split(f"\n# {variable.name}: ", 1)[1].split("\n\n", 1)[0]
        comment = " ".join(line.removeprefix("# ") for line in block.splitlines()[:-1])
        assert comment.startswith(variable.meaning.split()[0])
        if variable.default:
            assert f"Default: {variable.default}." in comment
        else:
            assert f"Unset: {variable.unset}" in comment and variable.unset
        value = shlex.quote(variable.default) if variable.default else ""
        assert block.splitlines()[-1] == f"# {variable.name}={value}"
    assert not [line for line in text.splitlines() if line and not line.startswith("#")], (
        "every line is a comment: a copy of the file changes nothing"
    )


def settings_with(monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]) -> object:
    for variable in VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    for name, value in {**REQUIRED, **extra}.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@pytest.mark.parametrize("variable", [v for v in VARIABLES if v.default], ids=lambda v: v.name)
def test_uncommenting_a_default_changes_nothing(
    variable: Variable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The value written as the default is the one the settings take without it."""
    if variable.name in REQUIRED:  # production needs it: compare with the others' defaults
        assert REQUIRED[variable.name] == variable.default
        return
    unset = settings_with(monkeypatch, {})
    written = settings_with(monkeypatch, {variable.name: variable.default})
    assert written == unset
