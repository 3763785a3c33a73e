"""The A/B split: each member's place in a campaign's random but fixed order (a hash of
campaign and contact), so that reading the same audience again makes the same split.
The first `test_fraction` of the audience in that order is the test group, dealt to the
variants in turn (their sizes differ by one at most); the rest waits for the winner."""

from __future__ import annotations

import hashlib
import math

from services.campaigns.logic.counters import of_variant


def rank(campaign_id: str, contact_id: str) -> int:
    digest = hashlib.sha256(f"{campaign_id}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:7], "big")  # 56 bits: a BIGINT on every database


def test_group_size(audience: int, test_fraction: float) -> int:
    """Members in the test: at least one per variant when the audience allows."""
    return min(audience, math.ceil(audience * test_fraction))


def deal(contact_ids_in_rank_order: list[str], variants: list[str]) -> dict[str, str]:
    """The test group's members to the variants in turn: {contact_id: variant}."""
    return {
        contact_id: variants[index % len(variants)]
        for index, contact_id in enumerate(contact_ids_in_rank_order)
    }


def winner(variants: list[str], counts: dict[str, int], metric: str) -> str:
    """The variant with the best `metric` rate (unique opens or clicks / sent); a tie,
    or no data, goes to the earlier variant as listed."""

    def rate(variant: str) -> float:
        sent = counts.get(of_variant(variant, "sent"), 0)
        return counts.get(of_variant(variant, metric), 0) / sent if sent else 0.0

    return max(variants, key=lambda variant: (rate(variant), -variants.index(variant)))
