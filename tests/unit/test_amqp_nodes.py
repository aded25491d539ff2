"""DROPSHIP_AMQP_URL as a list of a cluster's nodes: parsed in order, shown without passwords, and
tried in turn (the next node at once, a pause only after every node failed in a row)."""

from __future__ import annotations

import pytest

from shared.messaging.nodes import NodeRotation, node_urls, redacted_node, redacted_nodes
from shared.settings import Settings

STRONG = {
    "database_url": "postgresql://router:p4ss@db.internal:5432/dropship",
    "admin_token": "q7Vt2mXb9LkPz4RwYc8NdF3hJs6GaE1u",
    "secret_key": "3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
}


def test_one_url_is_a_list_of_one() -> None:
    assert node_urls("amqp://guest:guest@127.0.0.1:5672/") == ("amqp://guest:guest@127.0.0.1:5672/",)


def test_nodes_keep_their_order_and_lose_blanks() -> None:
    setting = " amqp://u:p@r1:5701/ ,amqps://u:p@r2:5702/vhost,, amqp://u:p@r3:5703/ "
    assert node_urls(setting) == ("amqp://u:p@r1:5701/", "amqps://u:p@r2:5702/vhost", "amqp://u:p@r3:5703/")


@pytest.mark.parametrize("setting", ["", " , ", "http://u:p@r1:80/", "amqp://u:hunter2@r1/,r2:5672", "amqp:///"])
def test_what_is_not_a_list_of_amqp_urls_is_refused_without_its_password(setting: str) -> None:
    with pytest.raises(ValueError, match="DROPSHIP_AMQP_URL") as refused:
        node_urls(setting)
    assert "hunter2" not in str(refused.value)


def test_every_password_is_redacted() -> None:
    setting = "amqp://router:s3cret@r1:5701/,amqp://router:0ther@r2:5702/,amqp://r3:5703/"
    shown = redacted_nodes(setting)
    assert shown == "amqp://router:***@r1:5701/,amqp://router:***@r2:5702/,amqp://r3:5703/"
    assert redacted_node("amqp://router:s3cret@r1:5701/?heartbeat=30") == "amqp://router:***@r1:5701/?heartbeat=30"


def test_production_refuses_guest_on_any_node() -> None:
    safe = "amqp://router:Xk29dLq@r1:5672/,amqp://router:Xk29dLq@r2:5672/"
    assert Settings(env="development", amqp_url=safe, **STRONG).production_problems() == []  # type: ignore[arg-type]
    mixed = f"{safe},amqp://guest:guest@r3:5672/"
    assert any("guest" in p for p in Settings(env="development", amqp_url=mixed, **STRONG).production_problems())  # type: ignore[arg-type]


def test_each_failure_moves_to_the_next_node_at_once_until_a_round_failed() -> None:
    rotation = NodeRotation(3)
    tried = [rotation.current]
    pauses = []
    for _ in range(6):
        rotation.failed()
        tried.append(rotation.current)
        pauses.append(rotation.pause_before_next(1.5))
    assert tried == [0, 1, 2, 0, 1, 2, 0]
    assert pauses == [0.0, 0.0, 1.5, 0.0, 0.0, 1.5]


def test_every_node_failed_only_after_each_was_tried() -> None:
    rotation = NodeRotation(3)
    rotation.failed()
    rotation.failed()
    assert not rotation.every_node_failed
    rotation.failed()
    assert rotation.every_node_failed


def test_a_connection_resets_the_round_but_stays_on_its_node() -> None:
    rotation = NodeRotation(3)
    rotation.failed()  # node 0 refused; node 1 answers
    rotation.connected()
    assert (rotation.current, rotation.failures_in_a_row) == (1, 0)
    rotation.failed()  # node 1 lost: node 2 next, at once
    assert rotation.current == 2
    assert rotation.pause_before_next(1.0) == 0.0


def test_one_node_pauses_after_every_failure() -> None:
    rotation = NodeRotation(1)
    rotation.failed()
    assert (rotation.current, rotation.pause_before_next(2.0), rotation.every_node_failed) == (0, 2.0, True)


def test_a_rotation_needs_a_node() -> None:
    with pytest.raises(ValueError, match="at least one"):
        NodeRotation(0)
