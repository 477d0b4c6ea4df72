"""Generate the Python client (clients/python) from the API's OpenAPI document.

`make client` runs it after an API change; tests/integration/test_python_client.py
generates into a folder of its own and fails when clients/python differs.

The document is the one the API serves at /openapi.json, from an app made with
placeholder settings: making the app connects to nothing. Its examples are left out of
what the generator reads: some are times relative to today (a booking body must start
in the future), and the client's docstrings would change with the date.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "clients" / "openapi-python-client.yml"
OUTPUT = ROOT / "clients" / "python"
# What installing or linting the client leaves beside it: not part of what is generated.
LEFTOVERS = (
    "__pycache__",
    ".pdm-build",
    ".ruff_cache",
    ".mypy_cache",
    "build",
    "dist",
    "*.egg-info",
)


def openapi_document() -> dict[str, Any]:
    """/openapi.json as the API answers it."""
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # no metric files from this process
    sys.path.insert(0, str(ROOT))
    from api import create_app
    from models.settings import Settings

    nowhere = "postgresql+psycopg://spec@127.0.0.1:1/spec"
    redis = "redis://127.0.0.1:1/0"
    settings = Settings(
        database_url=nowhere,
        redis_url=redis,
        broker_url=redis,
        env="development",
        secret_key="placeholder-" * 4,
        rate_limits=False,
    )
    answer = create_app(settings).test_client().get("/openapi.json")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    document: dict[str, Any] = answer.get_json()
    return document


def without_examples(node: Any) -> Any:
    """The document without its examples (but a field named "example" stays)."""
    if isinstance(node, list):
        return [without_examples(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: (
            {name: without_examples(field) for name, field in value.items()}
            if key == "properties"
            else without_examples(value)
        )
        for key, value in node.items()
        if key not in {"example", "examples"}
    }


def generate(output: Path) -> None:
    """The client, generated into `output` (replaced)."""
    document = without_examples(openapi_document())
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "openapi.json"
        spec.write_text(json.dumps(document, indent=2))
        venv = Path(sys.executable).parent
        # The generator formats what it writes with ruff: this venv's, so that every run
        # writes the same text.
        env = {**os.environ, "PATH": f"{venv}{os.pathsep}{os.environ.get('PATH', '')}"}
        argv = [
            str(venv / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--config",
            str(CONFIG),
            "--meta",
            "pdm",
            "--output-path",
            str(output),
            "--overwrite",
            "--fail-on-warning",  # a part of the document it cannot read is an error
        ]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"openapi-python-client failed:\n{done.stdout}{done.stderr}")
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)


def generated_files(folder: Path) -> dict[str, str]:
    """Each generated file's text, by its path in `folder` (what installing it leaves out)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.match(pattern) for part in map(Path, relative.parts) for pattern in LEFTOVERS):
            continue
        if path.is_file():
            found[relative.as_posix()] = path.read_text()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: clients/python")
    generate(parser.parse_args().output)


if __name__ == "__main__":
    main()
