"""Several Passgate nodes on one PostgreSQL database behind HAProxy (tests/multinode/cluster.py).

PostgreSQL only: several nodes need a database server they all reach; the SQLite run skips these tests. On a
PostgreSQL run a missing HAProxy skips loudly, and fails under CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import loud_skip
from tests.multinode.cluster import HAPROXY, Cluster, cluster
from tests.processes import on_postgres


def needs_the_parts() -> None:
    if not on_postgres():
        pytest.skip("several nodes share one database server: PostgreSQL only (PASSGATE_TEST_ON_POSTGRES=1); "
                    "an SQLite file is one machine's database")
    if not os.access(HAPROXY, os.X_OK):
        loud_skip("multi-node tests", f"{HAPROXY} is missing (Debian package haproxy)")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two nodes and HAProxy shared by a module's tests (none of which stops a node)."""
    needs_the_parts()
    with cluster(tmp_path_factory.mktemp("nodes")) as running:
        yield running


@pytest.fixture
def own_nodes(tmp_path: Any) -> Iterator[Cluster]:
    """Two nodes and HAProxy for one test only (it kills a node or its workers)."""
    needs_the_parts()
    with cluster(tmp_path) as running:
        yield running
