"""The test run itself: `make test`'s two workers get the longest files first."""

from pathlib import Path

from tests.conftest import pytest_collection_modifyitems


class Item:
    """What the ordering reads of a collected test: its file and its markers."""

    def __init__(self, path: str, *markers: str):
        self.path, self.markers = Path(path), set(markers)

    def get_closest_marker(self, name: str):
        return name if name in self.markers else None


def test_files_run_longest_first_and_keep_their_tests_together():
    items = [
        Item("test_a.py"),
        Item("test_b.py", "slow"),
        Item("test_b.py"),  # a file with one slow test counts as slow, whole
        Item("test_c.py", "postgres", "slow"),
        Item("test_d.py"),
        Item("test_e.py", "slow"),
        Item("test_c.py", "postgres", "slow"),
    ]
    ordered = list(items)
    pytest_collection_modifyitems(ordered)
    assert ordered == [items[3], items[6], items[1], items[2], items[5], items[0], items[4]]
