"""A small thread-safe LRU cache: every cache of the demo is one, so that memory stays bounded."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRU:
    """A small thread-safe LRU cache."""

    def __init__(self, size: int):
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key, value):
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value

    def get_or_make(self, key, make):
        hit = self.get(key)
        return hit if hit is not None else self.put(key, make())

    def __len__(self):
        return len(self._d)

    def clear(self):
        with self._lock:
            self._d.clear()
