"""`bookings up` tells the other commands where its servers are, refuses a busy port and a
folder another `bookings up` runs in, and `bookings status` says where it is."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli import embedded
from cli.up import run_everything
from models.state_env import load_state_env, remove_state_env, write_state_env
from tests.roles import ROOT, run_apart

URLS = {
    "DATABASE_URL": "postgresql+psycopg://postgres@/bookings?host=/tmp/x y",
    "REDIS_URL": "redis://127.0.0.1:6390/0",
}


@pytest.fixture
def written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An env file `bookings up` (this process) wrote for the servers in URLS."""
    for name, value in URLS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("BOOKINGS_ENV", "development")
    return write_state_env(tmp_path / "env")


def test_the_env_file_round_trips_and_fills_only_what_is_unset(
    written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written
    assert "export DATABASE_URL=" in path.read_text()

    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")  # the caller's own wins
    assert load_state_env(path)
    assert os.environ["DATABASE_URL"] == URLS["DATABASE_URL"]
    assert os.environ["REDIS_URL"] == "redis://elsewhere:6379/0"

    remove_state_env(path)
    monkeypatch.delenv("DATABASE_URL")
    assert not load_state_env(path)


def test_an_embedded_redis_keeps_its_port_while_it_is_free(tmp_path: Path) -> None:
    first = embedded.kept_port(tmp_path)
    assert embedded.kept_port(tmp_path) == first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first))
        taken.listen()
        assert embedded.kept_port(tmp_path) != first


def test_up_on_a_busy_port_says_so_and_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_everything(port, "127.0.0.1") == 2
    message = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is taken" in message
    assert f"PORT={port + 1} make run" in message


def test_a_file_left_by_a_dead_bookings_up_is_ignored(
    written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written
    assert "BOOKINGS_ENV" not in path.read_text()  # a leftover never switches the mode
    text = path.read_text().replace(f"# pid {os.getpid()}", "# pid 999999999")
    path.write_text(text)
    monkeypatch.delenv("DATABASE_URL")
    assert not load_state_env(path)
    assert "DATABASE_URL" not in os.environ


HOLDER = (  # holds the folder until the test closes its stdin (or kills it)
    "import sys\n"
    "from cli import data_folder\n"
    "held = data_folder.hold('http://127.0.0.1:8123')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def folder_held(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding tmp_path/.bookings, as a running `bookings up` does."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield holder
    holder.kill()
    holder.wait()


def test_a_second_up_on_the_same_folder_exits_2_naming_the_running_one(
    tmp_path: Path, folder_held: subprocess.Popen[str]
) -> None:
    second = run_apart([sys.executable, "-m", "cli", "up", "--port", "8124"], tmp_path)
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"already running here (pid {folder_held.pid}, http://127.0.0.1:8123)" in second.stderr
    status = run_apart([sys.executable, "-m", "cli", "status"], tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"bookings is up at http://127.0.0.1:8123 (pid {folder_held.pid}" in status.stdout


def test_status_says_when_nothing_runs_even_with_a_lock_file_left_behind(tmp_path: Path) -> None:
    (tmp_path / ".bookings").mkdir()
    (tmp_path / ".bookings" / "up.lock").write_text("999999999 http://127.0.0.1:8123\n")
    status = run_apart([sys.executable, "-m", "cli", "status"], tmp_path)
    assert status.returncode == 1
    assert "no bookings up is running in this folder" in status.stdout


def test_the_env_file_is_removed_only_by_the_process_that_wrote_it(written: Path) -> None:
    path = written
    path.write_text(path.read_text().replace(f"# pid {os.getpid()}", "# pid 1"))
    remove_state_env(path)  # another's: kept
    assert path.exists()
    path.write_text(path.read_text().replace("# pid 1", f"# pid {os.getpid()}"))
    remove_state_env(path)
    assert not path.exists()
