"""The Mermaid ER diagram of the models, rendered from SQLAlchemy metadata.

`bookings er-diagram` writes `render_document(Base.metadata)` to `docs/er-diagram.md`; a
unit test fails when the models change and the page was not regenerated. Pure code: it
reads metadata only (no Flask, no Celery, no database connection), and its output is
sorted, so the same models always give the same page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKeyConstraint,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.schema import AddConstraint, Constraint
from sqlalchemy.types import TypeEngine

ER_DIAGRAM_PATH = Path(__file__).resolve().parents[1] / "docs" / "er-diagram.md"

_DIALECT = postgresql.dialect()

# Checked in order: a subclass before its base (Enum and Text are Strings, BigInteger
# is an Integer, JSONB is a JSON).
_SHORT_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (ARRAY, "array"),
    (JSONB, "jsonb"),
    (JSON, "json"),
    (Uuid, "uuid"),
    (Boolean, "bool"),
    (BigInteger, "bigint"),
    (SmallInteger, "smallint"),
    (Integer, "int"),
    (Float, "float"),
    (Numeric, "numeric"),
    (Date, "date"),
    (Time, "time"),
    (Interval, "interval"),
    (Text, "text"),
    (LargeBinary, "bytea"),
)


def short_type(type_: TypeEngine[Any]) -> str:
    """A short SQL type name with no spaces or parentheses: uuid, varchar, timestamptz…"""
    if isinstance(type_, TypeDecorator):
        return short_type(type_.impl_instance)
    if isinstance(type_, Enum):
        # A non-native enum is a VARCHAR with a CHECK listing its values.
        return "enum" if type_.native_enum else "varchar"
    if isinstance(type_, DateTime):
        return "timestamptz" if type_.timezone else "timestamp"
    for cls, name in _SHORT_TYPES:
        if isinstance(type_, cls):
            return name
    if isinstance(type_, String):
        return "varchar"
    try:
        compiled = type_.compile(dialect=_DIALECT)
    except Exception:
        compiled = type(type_).__name__
    base = compiled.split("(", 1)[0].split("[", 1)[0].strip().lower()
    return "_".join(base.split()) or "unknown"


def _unique_column_sets(table: Table) -> list[frozenset[str]]:
    """Every set of columns the table keeps unique: unique constraints and unique indexes."""
    sets = [
        frozenset(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    sets += [frozenset(c.name for c in index.columns) for index in table.indexes if index.unique]
    sets += [frozenset([c.name]) for c in table.columns if c.unique]
    return [s for s in sets if s]


def _keys(table: Table, column: Column[Any]) -> list[str]:
    keys = []
    if column.primary_key:
        keys.append("PK")
    if column.foreign_keys:
        keys.append("FK")
    if any(column.name in columns for columns in _unique_column_sets(table)):
        keys.append("UK")
    return keys


def _quote(text: str) -> str:
    """A Mermaid string: no double quotes inside, one line."""
    return '"' + " ".join(text.replace('"', "'").split()) + '"'


def _attribute(table: Table, column: Column[Any]) -> str:
    parts = [short_type(column.type), column.name]
    keys = _keys(table, column)
    if keys:
        parts.append(", ".join(keys))
    if column.comment:
        parts.append(_quote(column.comment))
    return " ".join(parts)


@dataclass(frozen=True, order=True)
class Relationship:
    """One foreign key: `parent <cardinality> child : "columns"`."""

    parent: str
    child: str
    label: str
    optional: bool  # some FK column is nullable: a child may have no parent
    one_to_one: bool  # the FK columns are unique: a parent has at most one child

    def line(self) -> str:
        left = "|o" if self.optional else "||"
        right = "o|" if self.one_to_one else "o{"
        return f"{self.parent} {left}--{right} {self.child} : {_quote(self.label)}"


def relationships(metadata: MetaData) -> list[Relationship]:
    """Every foreign key of every table, sorted."""
    found = []
    for table in metadata.tables.values():
        primary = frozenset(c.name for c in table.primary_key.columns)
        unique_sets = [*_unique_column_sets(table), *([primary] if primary else [])]
        for constraint in table.constraints:
            if not isinstance(constraint, ForeignKeyConstraint):
                continue
            columns = list(constraint.columns)
            names = frozenset(c.name for c in columns)
            found.append(
                Relationship(
                    parent=constraint.referred_table.name,
                    child=table.name,
                    label=", ".join(c.name for c in columns),
                    optional=any(c.nullable for c in columns),
                    one_to_one=any(s <= names for s in unique_sets),
                )
            )
    return sorted(found)


def _tables(metadata: MetaData) -> list[Table]:
    return sorted(metadata.tables.values(), key=lambda t: t.name)


def render_mermaid(metadata: MetaData) -> str:
    """A Mermaid `erDiagram`: one entity per table, one line per foreign key."""
    lines = ["erDiagram"]
    for table in _tables(metadata):
        lines.append(f"    {table.name} {{")
        lines += [f"        {_attribute(table, column)}" for column in table.columns]
        lines.append("    }")
    lines += [f"    {relationship.line()}" for relationship in relationships(metadata)]
    return "\n".join(lines) + "\n"


def _constraint_sql(constraint: Constraint) -> str:
    """The constraint as PostgreSQL DDL, e.g. `EXCLUDE USING gist (…) WHERE (…)`."""
    ddl = str(AddConstraint(constraint).compile(dialect=_DIALECT))
    body = ddl.split(" ADD ", 1)[-1]
    if body.startswith("CONSTRAINT "):
        body = body.split(" ", 2)[-1]  # drop "CONSTRAINT <name>": the name is shown apart
    return " ".join(body.split())


def _named(metadata: MetaData, kind: type[Constraint]) -> Iterable[tuple[str, str, Constraint]]:
    found = [
        (table.name, str(constraint.name or "(unnamed)"), constraint)
        for table in _tables(metadata)
        for constraint in table.constraints
        if isinstance(constraint, kind)
    ]
    return sorted(found, key=lambda row: (row[0], row[1]))


def constraint_notes(metadata: MetaData) -> list[str]:
    """Markdown bullets for what Mermaid cannot draw: EXCLUDE and CHECK constraints."""
    notes = []
    for label, kind in (("exclusion", ExcludeConstraint), ("check", CheckConstraint)):
        for table, name, constraint in _named(metadata, kind):
            notes.append(f"- {label} `{name}` on `{table}`: `{_constraint_sql(constraint)}`")
    return notes


def render_document(metadata: MetaData) -> str:
    """The Markdown page `docs/er-diagram.md`: title, provenance, constraint notes, diagram."""
    notes = constraint_notes(metadata)
    parts = [
        "# Entity-relationship diagram",
        "",
        "Generated from the SQLAlchemy models by `bookings er-diagram`; "
        "do not edit this file by hand.",
        "",
        "Columns are `type name keys` (PK primary key, FK foreign key, UK unique). "
        "A relationship line per foreign key is labelled with its column; `|o` marks a "
        "nullable foreign key, `o|` a unique one (one-to-one).",
        "",
        "## Constraints the diagram cannot show",
        "",
        "Mermaid has no notation for these; PostgreSQL enforces them.",
        "",
        *(notes or ["- none"]),
        "",
        "## Diagram",
        "",
        "```mermaid",
        render_mermaid(metadata).rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(parts)
