"""An S3-compatible server on 127.0.0.1 for the object-storage lake: moto's server mode, a real S3
protocol peer over HTTP (s3fs, Polars and DuckDB talk to it through sockets as they would to S3),
not a mock patched into the client. Started and stopped as a context manager, on an ephemeral
port, with one bucket made; `objects()` lists what is stored, as the server sees it."""

from __future__ import annotations

import logging

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


class S3Server:
    def __init__(
        self,
        bucket: str = "phoenix-lake",
        access_key_id: str = "phoenix-test",
        secret_access_key: str = "phoenix-test-secret",
    ):
        self.bucket, self.access_key_id, self.secret_access_key = bucket, access_key_id, secret_access_key
        self._server: ThreadedMotoServer | None = None

    def __enter__(self) -> S3Server:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def lake_env(self, prefix: str) -> dict[str, str]:
        """The environment that puts the lake at s3://<bucket>/<prefix> on this server."""
        return {
            "PHOENIX_LAKE_URL": f"s3://{self.bucket}/{prefix}",
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def objects(self, prefix: str = "") -> dict[str, int]:
        """Key → size of every object under `prefix`."""
        found = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
        return found

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
