"""Where the serving documents go: a real MongoDB through MONGODB_URI; without one, a
mongoimport-ready export under the data directory (`serving/`, see documents/export.py).

The in-process stand-in (mongomock) is for tests only (MONGODB_STAND_IN=1): it speaks pymongo's
API inside this process, persists nothing, and scans its whole collection for every query, so it
cannot serve at volume. Every caller can tell which target it has from `target`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Optional

import dagster as dg

from phoenix_dagster.redact import MaskedRepr

if TYPE_CHECKING:
    import pymongo

_STAND_IN = None  # one per process, so successive runs in a process share it
_CLIENTS: dict[str, pymongo.MongoClient] = {}  # pymongo clients pool connections: one per URI
MONGODB, EXPORT, STAND_IN = "mongodb", "export", "stand-in"


def mongo_error() -> type[Exception]:
    """pymongo's base error class, for `except (mongo_error(), …)`: the clause is evaluated only when
    an exception is being matched, so pymongo (~0.5 s to import) is loaded only where MongoDB is used."""
    from pymongo.errors import PyMongoError

    return PyMongoError


class MongoResource(MaskedRepr, dg.ConfigurableResource):
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"uri"})

    uri: Optional[str] = None  # from EnvVar("MONGODB_URI"); None: the export (or the tests' stand-in)
    database: str  # MONGODB_DATABASE
    export_dir: str  # <data dir>/serving: the export's files when no MongoDB is configured
    stand_in: bool = False  # MONGODB_STAND_IN=1 (tests): the in-process mongomock instead of the export
    server_selection_timeout_ms: int = 10_000

    @property
    def target(self) -> str:
        return MONGODB if self.uri else STAND_IN if self.stand_in else EXPORT

    @property
    def is_stand_in(self) -> bool:
        return self.target == STAND_IN

    def export_path(self, collection: str) -> Path:
        return Path(self.export_dir) / f"{collection}.jsonl"

    def client(self):
        global _STAND_IN
        if self.target == EXPORT:
            raise RuntimeError(
                f"no MongoDB configured (MONGODB_URI): the documents are exported to {self.export_dir} instead"
            )
        if self.target == STAND_IN:
            if _STAND_IN is None:
                import mongomock

                _STAND_IN = mongomock.MongoClient()
            return _STAND_IN
        if self.uri not in _CLIENTS:
            import pymongo  # ~0.5 s to import: only where MongoDB is written

            _CLIENTS[self.uri] = pymongo.MongoClient(
                self.uri, serverSelectionTimeoutMS=self.server_selection_timeout_ms, appname="phoenix-estate"
            )
        return _CLIENTS[self.uri]

    def db(self):
        return self.client()[self.database]

    def describe(self) -> str:
        return {
            MONGODB: "MongoDB at MONGODB_URI",
            STAND_IN: "in-process stand-in (mongomock, not persisted)",
            EXPORT: f"mongoimport-ready export in {self.export_dir} (MONGODB_URI not set)",
        }[self.target]

    def data_bytes(self) -> int:
        """Bytes of data served: dbStats.dataSize; the export's file sizes; the stand-in's
        documents measured as BSON (it has no dbStats)."""
        if self.target == EXPORT:
            return sum(p.stat().st_size for p in Path(self.export_dir).glob("*.jsonl"))
        if self.target == STAND_IN:
            from bson import encode

            database = self.db()
            return sum(len(encode(doc)) for name in database.list_collection_names() for doc in database[name].find())
        return int(self.db().command("dbStats")["dataSize"])
