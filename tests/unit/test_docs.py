"""The contract's copy is the contract (the configuration table: test_config_docs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_CONTRACT = ROOT.parent / "shared" / "API.md"


def test_the_contract_copy_is_the_contract() -> None:
    if not SHARED_CONTRACT.is_file():
        pytest.skip("the contract's source is not beside this checkout")
    copy = (ROOT / "docs" / "api.md").read_text()
    assert copy == SHARED_CONTRACT.read_text(), "docs/api.md differs from the contract it copies"
