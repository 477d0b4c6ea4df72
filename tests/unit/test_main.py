"""cli/main.py: the `bookings` command's pure parts."""

from __future__ import annotations

import click
import pytest

from cli.main import parse_shards


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
