"""The segments service in a real nameko container beside contacts and activity, on the
real broker: contact changes and recorded activity move contacts in and out of segments
through the bus, each move reaching the feed; erasure empties the membership; a bad
rule crosses RPC as Invalid naming its path."""

import pytest
from nameko.standalone.rpc import ClusterRpcClient

from plexus.consumer import declare_topology
from plexus.errors import Invalid
from plexus.migrations import migrate_service
from services.activity.entrypoints import ActivityService
from services.contacts.entrypoints import ContactsService
from services.segments.entrypoints import SegmentsService
from tests.interface.test_activity_service import eventually

ACTOR = "interface-test"


@pytest.fixture
def services(service_config, container_factory):
    declare_topology(service_config["AMQP_URI"])
    started = {}
    for name, service in (
        ("contacts", ContactsService),
        ("activity", ActivityService),
        ("segments", SegmentsService),
    ):
        migrate_service(service_config, name)
        started[name] = container_factory(service)
        started[name].start()
    return started


@pytest.fixture
def rpc(services):
    with ClusterRpcClient(timeout=10) as client:
        yield client


def test_changes_move_contacts_in_and_out_through_the_bus(rpc):
    segment = rpc.segments.create_segment(
        {
            "name": "Ukrainian buyers",
            "rule": {
                "all": [
                    {"field": "language", "op": "eq", "value": "uk"},
                    {"activity": {"name": "paid"}},
                ]
            },
        },
        ACTOR,
    )
    contact = rpc.contacts.create_contact({"email": "ann@example.com", "language": "uk"}, ACTOR)
    rpc.activity.record_event({"contact": {"id": contact["id"]}, "name": "paid"}, ACTOR)
    eventually(
        lambda: rpc.segments.members(segment["id"]), lambda page: page["data"] == [contact["id"]]
    )
    assert rpc.segments.get_segment(segment["id"])["member_count"] == 1
    rpc.contacts.update_contact(contact["id"], {"language": "en"}, ACTOR)
    eventually(lambda: rpc.segments.members(segment["id"]), lambda page: page["data"] == [])
    feed = eventually(
        lambda: rpc.activity.feed(contact["id"], type="added_to_segment,dropped_from_segment"),
        lambda page: len(page["data"]) == 2,
    )
    assert [item["type"] for item in feed["data"]] == ["dropped_from_segment", "added_to_segment"]
    assert feed["data"][0]["details"]["segment_name"] == "Ukrainian buyers"


def test_erasure_and_preview_and_a_bad_rule(rpc):
    segment = rpc.segments.create_segment({"name": "Email", "rule": {"subscribed": "email"}}, ACTOR)
    contact = rpc.contacts.create_contact({"email": "bob@example.com"}, ACTOR)
    eventually(
        lambda: rpc.segments.contact_segments(contact["id"]),
        lambda page: [s["id"] for s in page["data"]] == [segment["id"]],
    )
    assert rpc.segments.preview({"rule": {"subscribed": "email"}}) == {
        "count": 1,
        "sample": [contact["id"]],
    }
    explained = rpc.segments.explain(segment["id"], contact["id"])
    assert explained["explain"] == {"subscribed": "email", "holds": True}
    rpc.contacts.delete_contact(contact["id"], ACTOR)
    eventually(
        lambda: rpc.segments.get_segment(segment["id"]), lambda found: found["member_count"] == 0
    )
    with pytest.raises(Invalid) as caught:
        rpc.segments.create_segment({"name": "x", "rule": {"any": [{"subscribed": "fax"}]}}, ACTOR)
    assert list(caught.value.errors) == ["rule.any.0.subscribed"]


def test_rebuild_reads_contacts_and_activity_again(
    rpc, services, service_config, container_factory
):
    from services.segments.rebuilding import rebuild_segments

    segment = rpc.segments.create_segment(
        {"name": "Payers", "rule": {"activity": {"name": "paid", "min_count": 2}}}, ACTOR
    )
    contact = rpc.contacts.create_contact({"email": "cy@example.com"}, ACTOR)
    for _ in range(2):
        rpc.activity.record_event({"contact": {"id": contact["id"]}, "name": "paid"}, ACTOR)
    eventually(
        lambda: rpc.segments.members(segment["id"]), lambda page: page["data"] == [contact["id"]]
    )
    # As `plexus segments rebuild` asks: the segments service stopped meanwhile, so no
    # event it would handle during the rebuild counts twice.
    services["segments"].stop()
    said = []
    summary = rebuild_segments(service_config, 10, said.append)
    container_factory(SegmentsService).start()
    assert summary.contacts == 1 and summary.counts >= 2
    assert summary.segments == {"Payers": (0, 0)}  # the same answer: nothing announced
    assert said[-1] == "segment 'Payers': +0 -0"
    assert rpc.segments.explain(segment["id"], contact["id"])["member"] is True
