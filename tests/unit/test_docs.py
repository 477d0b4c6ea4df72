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


def test_contributing_names_only_make_targets_that_exist() -> None:
    import re

    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", (ROOT / "CONTRIBUTING.md").read_text()))
    assert named and named <= targets, named - targets


def test_the_changelog_keeps_a_changelog() -> None:
    import re

    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions and versions[0] == "Unreleased", versions
    kinds = set(re.findall(r"^### (\w+)", text, re.M))
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert kinds <= allowed, kinds - allowed
