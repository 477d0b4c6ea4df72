"""The pure side imports nothing of the database: the engine and its rules are tested,
and could run, without SQLAlchemy or psycopg."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_domain_loads_no_database_library() -> None:
    code = (
        "import sys, pkgutil, importlib, models.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'models.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "banned = ('sqlalchemy', 'psycopg', 'flask', 'celery',\n"
        "          'models.tables', 'models.services')\n"
        "print(sorted(n for n in sys.modules if n.startswith(banned)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
