"""MongoDB for applications: a real server through MONGODB_URI, else an in-process stand-in.

The stand-in (mongomock) speaks pymongo's API inside this process only: nothing persists
after the process ends. Every caller can tell which one it has from `is_stand_in`.
"""

from __future__ import annotations

from typing import Optional

import dagster as dg
import mongomock
import pymongo

_STAND_IN = mongomock.MongoClient()  # one per process, so successive runs in a process share it
_CLIENTS: dict[str, pymongo.MongoClient] = {}  # pymongo clients pool connections: one per URI


class MongoResource(dg.ConfigurableResource):
    uri: Optional[str] = None  # from EnvVar("MONGODB_URI"); None means the stand-in
    database: str  # MONGODB_DATABASE
    server_selection_timeout_ms: int = 10_000

    @property
    def is_stand_in(self) -> bool:
        return not self.uri

    def client(self) -> pymongo.MongoClient | mongomock.MongoClient:
        if self.is_stand_in:
            return _STAND_IN
        if self.uri not in _CLIENTS:
            _CLIENTS[self.uri] = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=self.server_selection_timeout_ms,
                                                 appname="phoenix-estate")
        return _CLIENTS[self.uri]

    def db(self):
        return self.client()[self.database]

    def describe(self) -> str:
        return "in-process stand-in (mongomock, not persisted)" if self.is_stand_in else "MongoDB at MONGODB_URI"

    def data_bytes(self) -> int:
        """Bytes of data in the database (dbStats.dataSize); the stand-in has no dbStats, so
        its documents are measured as BSON."""
        if self.is_stand_in:
            from bson import encode

            database = self.db()
            return sum(len(encode(doc)) for name in database.list_collection_names() for doc in database[name].find())
        return int(self.db().command("dbStats")["dataSize"])
