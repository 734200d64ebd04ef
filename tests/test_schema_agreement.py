"""The two schema histories (memory/migrations.py for SQLite, memory/postgres_migrations.py for
PostgreSQL, and each plugin's pair) leave the same tables, columns, column kinds, NOT NULL
constraints and indexed columns, so a workspace moves between backends column for column
(``lifelong memory migrate``). A migration added to one history and not the other fails here."""

import sqlite3

import pytest

from lifelong.core.plugins import PluginHost
from lifelong.memory.db import open_database

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install .[postgres])")

# Each backend's own bookkeeping, not part of the shared schema.
OWN_TABLES = {"_migrations", "_sqlite_migrations", "sqlite_sequence"}
# Each backend's keyword index of the retrieval plugin's chunks: FTS5 tables in SQLite, a
# tsvector column in PostgreSQL.
SQLITE_KEYWORD_INDEX = "chunks_fts"
POSTGRES_KEYWORD_INDEX = ("chunks", "words")

# The kind of a declared column type, as each backend spells it.
KINDS = {"integer": "integer", "bigint": "integer", "smallint": "integer", "boolean": "integer",
         "text": "text", "character varying": "text", "real": "real", "double precision": "real",
         "blob": "bytes", "bytea": "bytes", "": "untyped"}


def sqlite_schema(path) -> dict:
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    schema = {}
    for table in {t for t in tables if not t.startswith(SQLITE_KEYWORD_INDEX)} - OWN_TABLES:
        columns = {name: (KINDS.get(kind.lower(), kind), bool(notnull) or bool(pk))
                   for _, name, kind, notnull, _, pk in conn.execute(f"pragma table_info({table})")}
        indexed = set()
        for _, index, unique, origin, partial in conn.execute(f"pragma index_list({table})"):
            if origin == "pk":
                continue
            columns_of = tuple(r[2] for r in conn.execute(f"pragma index_info({index})"))
            indexed.add((columns_of, bool(unique), bool(partial)))
        schema[table] = (columns, indexed)
    conn.close()
    return schema


def postgres_schema(url) -> dict:
    schema = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute("select table_name, column_name, data_type, is_nullable from information_schema.columns"
                            " where table_schema = 'public'").fetchall()
        for table, column, kind, nullable in rows:
            if table not in OWN_TABLES and (table, column) != POSTGRES_KEYWORD_INDEX:
                schema.setdefault(table, ({}, set()))[0][column] = (KINDS.get(kind, kind), nullable == "NO")
        indexes = conn.execute(
            "select t.relname, array_agg(a.attname order by k.ord), i.indisunique, i.indpred is not null from pg_index i"
            " join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace"
            " cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)"
            " join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum"
            " where n.nspname = 'public' and not i.indisprimary and a.attname <> %s"
            " group by i.indexrelid, t.relname, i.indisunique, i.indpred", (POSTGRES_KEYWORD_INDEX[1],)).fetchall()
        for table, columns, unique, partial in indexes:
            if table in schema:
                schema[table][1].add((tuple(columns), unique, partial))
    return schema


def test_both_backends_build_the_same_schema(tmp_path, postgres_url):
    plugins = PluginHost().migrations
    open_database(tmp_path / "lifelong.db", plugins).close()
    open_database(postgres_url, plugins).close()
    in_sqlite, in_postgres = sqlite_schema(tmp_path / "lifelong.db"), postgres_schema(postgres_url)
    assert sorted(in_sqlite) == sorted(in_postgres)
    for table in in_sqlite:
        sqlite_columns, sqlite_indexed = in_sqlite[table]
        postgres_columns, postgres_indexed = in_postgres[table]
        assert sqlite_columns == postgres_columns, table
        # Primary keys left out: an index in PostgreSQL, the rowid in SQLite.
        assert sqlite_indexed == postgres_indexed, table
