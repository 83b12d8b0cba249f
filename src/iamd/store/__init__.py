"""Persistence: the schema, its migrations, and one repository per aggregate.

One implementation, SQLAlchemy Core, serves both engines iamd supports: SQLite (the
embedded default, WAL, synchronous=FULL) and PostgreSQL (several nodes). Services own
the transaction: they open one with `Database.read()` or `Database.write()` and hand
its connection to the repositories.
"""
