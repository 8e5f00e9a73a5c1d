from __future__ import annotations

import pytest

from tests.sync.crypto.world import World, make_world


@pytest.fixture
def world() -> World:
    return make_world()
