"""Fixtures of the fault tests: a RabbitMQ node of the test's own, to take away."""

import pytest

from tests.faults.rabbit_node import RabbitNode


@pytest.fixture
def rabbit_node(tmp_path):
    node = RabbitNode(tmp_path / "rabbit").start()
    yield node
    node.stop()
