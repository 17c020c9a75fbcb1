"""The machine's own services (PostgreSQL, Redis, RabbitMQ on loopback) for the tests that need
them: each such test skips, naming what is missing, when a service does not answer, so `make test`
passes on a machine without them. PHOENIX_TEST_POSTGRESQL_URL / PHOENIX_TEST_REDIS_URL /
PHOENIX_TEST_RABBITMQ_URL point elsewhere."""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULTS = {
    "redis": "redis://127.0.0.1:6379/15",
    "postgresql": "postgresql://postgres@127.0.0.1:5432/postgres",
    "rabbitmq": "pyamqp://guest:guest@127.0.0.1:5672//",
}


def service_url(kind: str) -> str:
    url = os.environ.get(f"PHOENIX_TEST_{kind.upper()}_URL", DEFAULTS[kind])
    host, port = urlsplit(url).hostname, urlsplit(url).port
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"no {kind} server at {host}:{port} ({exc}); set PHOENIX_TEST_{kind.upper()}_URL")
    return url


@contextmanager
def fresh_postgres_database(scheme: str = "postgresql+psycopg2"):
    """A new, empty database on the test PostgreSQL server (its URL, with the driver named for
    SQLAlchemy), dropped afterwards."""
    import psycopg2

    admin_url = service_url("postgresql")
    name = f"phoenix_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"create database {name}")
        parts = urlsplit(admin_url)
        yield urlunsplit(parts._replace(scheme=scheme, path=f"/{name}"))
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
    finally:
        admin.close()
