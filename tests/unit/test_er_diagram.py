"""docs/er-diagram.md is generated from the models and must stay in step with them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint

from cli.er_diagram import (
    ER_DIAGRAM_PATH,
    render_document,
    render_mermaid,
    short_type,
)
from models.tables import Base


@pytest.fixture(scope="module")
def mermaid() -> str:
    return render_mermaid(Base.metadata)


@pytest.fixture(scope="module")
def lines(mermaid: str) -> list[str]:
    return [line.strip() for line in mermaid.splitlines()]


def test_committed_diagram_is_up_to_date() -> None:
    assert ER_DIAGRAM_PATH.is_file(), f"{ER_DIAGRAM_PATH} is missing: run `bookings er-diagram`"
    committed = ER_DIAGRAM_PATH.read_text(encoding="utf-8")
    assert committed == render_document(Base.metadata), (
        f"{ER_DIAGRAM_PATH} does not match the models: run `bookings er-diagram` and commit it"
    )


def test_rendering_is_deterministic() -> None:
    assert render_document(Base.metadata) == render_document(Base.metadata)


def test_every_table_is_an_entity_with_every_column(lines: list[str]) -> None:
    assert lines[0] == "erDiagram"
    entities = [line.removesuffix(" {") for line in lines if line.endswith(" {")]
    assert entities == sorted(Base.metadata.tables), "one entity per table, sorted by name"
    for table in Base.metadata.tables.values():
        start = lines.index(f"{table.name} {{")
        end = lines.index("}", start)
        names = [line.split()[1] for line in lines[start + 1 : end]]
        assert names == [c.name for c in table.columns], table.name


def test_every_foreign_key_is_a_relationship(lines: list[str]) -> None:
    relationship = re.compile(r'^(\w+) (\|\||\|o)--(o\{|o\|) (\w+) : "([^"]+)"$')
    drawn = {(m[1], m[4], m[5]) for line in lines if (m := relationship.match(line)) is not None}
    expected = {
        (fk.column.table.name, table.name, fk.parent.name)
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
    }
    assert expected, "the models have foreign keys"
    assert drawn == expected
    assert sum(1 for line in lines if "--" in line) == len(expected)


def test_concrete_relationships(lines: list[str]) -> None:
    assert 'rooms ||--o{ bookings : "room_id"' in lines
    assert 'users ||--o{ bookings : "organizer_id"' in lines
    # Nullable foreign keys: a booking need not belong to a series.
    assert 'booking_series |o--o{ bookings : "series_id"' in lines
    assert 'booking_requests |o--o{ booking_requests : "parent_id"' in lines
    # meetings.booking_id is unique: one booking has at most one meeting.
    assert 'bookings ||--o| meetings : "booking_id"' in lines


def test_column_types_and_keys(lines: list[str]) -> None:
    assert "uuid id PK" in lines
    assert "uuid booking_id FK, UK" in lines
    assert "varchar join_code UK" in lines
    assert "varchar name UK" in lines
    assert "bigint seq UK" in lines
    assert "timestamptz start_time" in lines
    assert "array attendees" in lines
    assert "jsonb payload" in lines
    assert "bool active" in lines
    assert "int capacity" in lines
    assert "text description" in lines
    for line in lines:
        if line and line not in {"erDiagram", "}"} and not line.endswith("{") and "--" not in line:
            type_ = line.split()[0]
            assert re.fullmatch(r"[a-z_]+", type_), f"type {type_!r} in {line!r}"


def test_document_lists_constraints_mermaid_cannot_show() -> None:
    document = render_document(Base.metadata)
    assert "`bookings er-diagram`" in document
    assert "`ex_bookings_no_overlap`" in document
    assert "EXCLUDE USING gist" in document
    checks = [
        str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    ]
    assert "ck_bookings_end_after_start" in checks
    for name in checks:
        assert f"`{name}`" in document, name
    assert document.count("```mermaid") == 1
    assert document.endswith("```\n")


def test_small_metadata() -> None:
    metadata = MetaData()
    Table("parents", metadata, Column("id", Integer, primary_key=True))
    Table(
        "children",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("parents.id"), nullable=False),
        Column("other_id", ForeignKey("parents.id"), nullable=True),
        Column("code", String(8), comment='the "code"'),
        UniqueConstraint("parent_id", "code"),
        ExcludeConstraint(("code", "="), name="ex_children_code", using="gist"),
    )
    mermaid = render_mermaid(metadata).splitlines()
    assert mermaid[1].strip() == "children {"
    assert "int parent_id FK, UK" in [line.strip() for line in mermaid]
    assert "varchar code UK \"the 'code'\"" in [line.strip() for line in mermaid]
    assert mermaid[-2:] == [
        '    parents |o--o{ children : "other_id"',
        '    parents ||--o{ children : "parent_id"',
    ]
    assert "`ex_children_code`" in render_document(metadata)
    assert short_type(String()) == "varchar"
