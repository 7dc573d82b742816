"""Fixtures shared by the layer tests: a seeded generator and tie-free inputs."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh seeded generator for each test, so no test depends on another's draws."""
    return np.random.default_rng(20240607)


@pytest.fixture
def distinct(rng):
    """Make arrays of distinct values, ``spacing`` apart, in random order.

    Max pooling has a kink wherever two cells of a window tie and ReLU has one
    at 0; a central difference across a kink is meaningless. These values are
    at least ``spacing`` apart (far more than the step 1e-6) and never 0.
    """

    def make(shape, spacing=0.1):
        size = int(np.prod(shape))
        # permutation - size/2 is a whole or half number; + 0.25 keeps it off 0
        return ((rng.permutation(size) - size / 2 + 0.25) * spacing).reshape(shape)

    return make


@pytest.fixture(autouse=True)
def _studies_computed(monkeypatch):
    """Unit tests compute every study. `make test` sets TINYNET_CACHE_DIR for the
    notebooks; a stored result here would hide what a test spies on, and would make a
    second run differ from the first (tests/test_cache.py switches the cache on itself)."""
    monkeypatch.delenv("TINYNET_CACHE_DIR", raising=False)
    monkeypatch.delenv("TINYNET_CACHE_READONLY", raising=False)
