"""labelhub's cache backends: Django's, with counters that lose no step (files) and a client made once (Redis)."""

from __future__ import annotations

import fcntl
import os
import pickle
import tempfile
import zlib
from contextlib import contextmanager

from django.core.cache.backends import filebased, redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT


class FileBasedCache(filebased.FileBasedCache):
    """Django's ``FileBasedCache`` whose ``add`` and ``incr`` are atomic across processes and threads.

    Django's versions read, then write: two gunicorn workers counting a
    failure at the same moment both write the same next value, and one
    failure is lost (a burst from four threads lost some in the tests). Here
    both hold an exclusive ``flock`` on one lock file in the cache folder,
    as Redis's ``SET NX`` and ``INCR`` are atomic by themselves. Plain reads
    (``get``, ``get_many``) take no lock: they cost what Django's do.
    """

    lock_name = "counters.lock"  # not a *.djcache file: clear() and culling leave it alone

    @contextmanager
    def _counter_lock(self):
        self._createdir()
        descriptor = os.open(os.path.join(self._dir, self.lock_name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._counter_lock():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        """``delta`` more, keeping the key's expiry (Django's ``incr`` would reset it to the default timeout)."""
        with self._counter_lock():
            fname = self._key_to_file(key, version)
            try:
                with open(fname, "rb") as file:
                    if self._is_expired(file):
                        raise ValueError(f"Key '{key}' not found.")
                    file.seek(0)
                    expiry = pickle.load(file)
                    value = pickle.loads(zlib.decompress(file.read())) + delta
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found.") from None
            # A new file moved into place, as set() does: a reader never sees a half-written one.
            descriptor, temporary = tempfile.mkstemp(dir=self._dir)
            try:
                with open(descriptor, "wb") as file:
                    file.write(pickle.dumps(expiry, self.pickle_protocol))
                    file.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
                os.replace(temporary, fname)
            except BaseException:
                os.unlink(temporary)
                raise
            return value


class _RedisCacheClient(redis.RedisCacheClient):
    """Django's client, keeping one redis-py client per connection pool.

    Django builds a new ``redis.Redis`` for every operation, which costs about
    as much as the round trip itself (~0.1 ms, measured): every failed API
    authentication counts in the cache (successful ones read no cache: the
    block state rides on the key lookup, ``accounts.throttling``). A redis-py
    client over a pool is safe to share between threads, and its pool
    reconnects after a fork.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisCacheClient
