"""tests/import_contracts.py: the acyclic contract finds a circle however it is held apart,
and the project has none (make lint runs the same contract)."""

from __future__ import annotations

import grimp
from grimp import ImportGraph

from tests.import_contracts import cycles


def test_a_circle_through_three_modules_is_found_and_a_chain_is_not() -> None:
    graph = ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["p.a", "p.b", "p.c"]]
    chain = ImportGraph()
    chain.add_import(importer="p.a", imported="p.b")
    chain.add_import(importer="p.b", imported="p.c")
    assert cycles(chain) == []


def test_the_project_has_no_import_circle() -> None:
    graph = grimp.build_graph("cli", "api", "worker", "models")
    assert cycles(graph) == []
