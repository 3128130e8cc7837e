"""Throwaway databases for the benchmarks: a SQLite file, or a database of its own on a PostgreSQL server.

A benchmark names its database (``labelhub_bench_<what>``), creates it fresh
for a run and drops it afterwards, so nothing it measures depends on an
earlier run and nothing of it is left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")


# The labels the benchmarks' boxes carry (a beach-litter survey's).
LABELS = [
    "Plastic",
    "PET",
    "Glass",
    "Can",
    "Paper",
    "Cardboard",
    "Cigarette",
    "Bottle cap",
    "Rope",
    "Net",
    "Styrofoam",
    "Wood",
    "Metal",
    "Rubber",
    "Textile",
    "Foil",
    "Straw",
    "Bag",
    "Cup",
    "Other",
]


def postgres_server_url() -> str | None:
    """DATABASE_URL when it names PostgreSQL, else ``None`` (SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if urlsplit(url).scheme in POSTGRES_SCHEMES else None


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server ``server_url`` names."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def admin_connection(url: str):
    """An autocommit connection to the ``postgres`` database of the server ``url`` names."""
    import psycopg

    return psycopg.connect(database_url(url, "postgres"), autocommit=True)


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    """Drop the database ``url`` names (its sessions too), then create it empty unless ``drop_only``."""
    from psycopg import sql

    name = sql.Identifier(urlsplit(url).path.lstrip("/"))
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(url: str) -> None:
    recreate_database(url, drop_only=True)


def fresh_database(name: str, workdir: Path) -> str:
    """The DATABASE_URL of an empty database for one run: ``name`` on DATABASE_URL's PostgreSQL, else SQLite."""
    server = postgres_server_url()
    if server is None:
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    url = database_url(server, name)
    recreate_database(url)
    return url


def drop_fresh_database(name: str) -> None:
    """Drop what ``fresh_database(name, ...)`` created (a SQLite file goes with the run's folder)."""
    server = postgres_server_url()
    if server is not None:
        drop_database(database_url(server, name))


@contextmanager
def bench_database(name: str, *, prefix: str, keep: bool = False) -> Iterator[tuple[str, str]]:
    """A fresh database for one run and its vendor (``postgresql``/``sqlite``); dropped afterwards unless ``keep``.

    Django's connections are closed before the drop (the caller set Django up on it).
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    db_url = fresh_database(name, workdir)
    try:
        yield db_url, "postgresql" if postgres_server_url() else "sqlite"
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"kept the database: {db_url}")
        else:
            drop_fresh_database(name)
            shutil.rmtree(workdir, ignore_errors=True)
