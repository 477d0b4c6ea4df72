"""models/metrics.ProcessFiles: a scrape while a process is creating its metrics file
(0 bytes for a moment) reads the others, instead of failing the whole scrape."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.values import MultiProcessValue

from models.metrics import ProcessFiles


def test_a_file_still_being_created_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    value = MultiProcessValue(lambda: 111)("counter", "x_total", "x_total", (), (), "help")
    value.inc(3)  # a process that has written its file
    (tmp_path / "counter_222.db").write_bytes(b"")  # one that has only just opened it

    plain = CollectorRegistry()
    MultiProcessCollector(plain, path=str(tmp_path))
    with pytest.raises(Exception, match="unpack"):
        generate_latest(plain)  # what /metrics answered 500 for

    registry = CollectorRegistry()
    ProcessFiles(registry, path=str(tmp_path))
    assert "x_total 3.0" in generate_latest(registry).decode()
