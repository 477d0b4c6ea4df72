"""models.domain.passwords: salted scrypt hashes, at a cost that comes from the settings."""

from __future__ import annotations

import pytest

from models.domain.passwords import DEFAULT_COST, hash_password, verify_password
from models.settings import Settings


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = hash_password("correct horse", cost=4), hash_password("correct horse", cost=4)
    assert first.startswith("scrypt$") and first != second
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", "not-a-hash")
    assert not verify_password("correct horse", "bcrypt$1$2$3$4$5")


def test_production_cost_is_owasps_scrypt_floor() -> None:
    assert DEFAULT_COST == 14
    assert Settings(database_url="", redis_url="", broker_url="").password_cost == DEFAULT_COST
    stored = hash_password("correct horse")  # no cost given: production's
    assert stored.split("$")[1:4] == [str(2**14), "8", "1"]
    assert verify_password("correct horse", stored)


def test_the_cost_is_stored_with_the_hash_so_any_cost_verifies() -> None:
    cheap, dear = hash_password("pw", cost=4), hash_password("pw", cost=10)
    assert cheap.split("$")[1] == "16" and dear.split("$")[1] == "1024"
    assert verify_password("pw", cheap) and verify_password("pw", dear)
    assert not verify_password("other", dear)


def test_a_cost_below_the_floor_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        hash_password("pw", cost=3)
