"""cli/main.py: the `bookings` command's pure parts."""

from __future__ import annotations

import click
import pytest

from cli.roles import parse_shards


def test_parse_shards_accepts_ranges_and_lists() -> None:
    assert parse_shards(None, 4) == [0, 1, 2, 3]
    assert parse_shards("0-3", 8) == [0, 1, 2, 3]
    assert parse_shards("1,5-6", 8) == [1, 5, 6]


@pytest.mark.parametrize("spec", ["8", "3-1", "a-b", "0-8"])
def test_parse_shards_refuses_what_is_not_a_shard_of_this_deployment(spec: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_shards(spec, 8)


def test_bookings_says_its_version() -> None:
    from importlib.metadata import version

    from click.testing import CliRunner

    from cli.main import main

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"bookings, version {version('bookings')}"


def test_granian_logs_as_json_and_the_access_log_is_opt_in() -> None:
    import importlib
    import json
    from pathlib import Path

    from cli.roles import granian_logging

    quiet = granian_logging("INFO")
    assert "--access-log" not in quiet
    config = json.loads(Path(quiet[quiet.index("--log-config") + 1]).read_text())
    module, _, name = config["formatters"]["json"]["()"].rpartition(".")
    assert getattr(importlib.import_module(module), name).__name__ == "JsonFormatter"
    assert config["loggers"]["granian.access"]["handlers"] == ["stderr"]
    assert "--access-log" in granian_logging("INFO", access_log=True)


def test_bookings_up_listens_on_loopback_unless_told() -> None:
    from cli.main import main

    host = next(p for p in main.commands["up"].params if p.name == "host")
    assert host.default == "127.0.0.1"
