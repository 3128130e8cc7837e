"""core.cache.FileBasedCache: Django's file cache with atomic counters that keep their expiry."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache


def test_counting_in_parallel_loses_no_step():
    cache.add("count", 0, timeout=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: cache.incr("count"), range(200)))
    assert cache.get("count") == 200


def test_only_one_of_many_parallel_adds_wins():
    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(lambda n: cache.add("first", n, timeout=60), range(50)))
    assert won.count(True) == 1


def test_a_count_expires_when_it_was_first_added_not_when_last_counted():
    cache.add("window", 1, timeout=1)
    time.sleep(0.6)
    assert cache.incr("window") == 2
    time.sleep(0.6)
    assert cache.get("window") is None


@pytest.mark.parametrize("expired", [False, True], ids=["missing", "expired"])
def test_counting_a_key_that_is_not_there_is_an_error_as_in_django(expired):
    if expired:
        cache.add("gone", 1, timeout=0.01)
        time.sleep(0.05)
    with pytest.raises(ValueError):
        cache.incr("gone")
