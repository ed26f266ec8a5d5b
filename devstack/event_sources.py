"""Pausing event source mappings: what a consumer holds back waits in its stream or queue.

An operator pauses a consumer this way (docs/operations.md); the tests and benchmarks do to
measure or to leave work for the sweeper. A disabled mapping keeps its place in the stream.
"""

from collections.abc import Iterator, Sequence
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
