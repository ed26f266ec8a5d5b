"""Pausing event source mappings: what a consumer holds back waits in its stream or queue.

An operator pauses a consumer this way (docs/operations.md); the tests and benchmarks do to
measure or to leave work for the sweeper. A disabled mapping keeps its place in the stream.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any


@contextmanager
def mappings_paused(lambda_client: Any, mapping_ids: Sequence[str]) -> Iterator[None]:
    """The mappings disabled while the block runs, enabled again however it ends."""
    for mapping_id in mapping_ids:
        lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=False)
    try:
        yield
    finally:
        for mapping_id in mapping_ids:
            lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=True)


def outbox_stream_mappings(lambda_client: Any, outputs: Mapping[str, str]) -> list[str]:
    """The UUIDs of the mappings that feed the sync: the two tables' streams (stack outputs)."""
    tables = (outputs["CustomersTableName"], outputs["LedgerTableName"])
    mappings = lambda_client.list_event_source_mappings()["EventSourceMappings"]
    found = [
        mapping["UUID"]
        for mapping in mappings
        if any(f":table/{table}/stream/" in mapping.get("EventSourceArn", "") for table in tables)
    ]
    if len(found) != len(tables):
        raise RuntimeError(f"expected one stream mapping per table, found {len(found)}")
    return found
