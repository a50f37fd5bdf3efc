"""Synthetic chest phantoms for the imaging tests."""
from __future__ import annotations

import numpy as np
import pytest
from lung_phantom import chest_phantom


@pytest.fixture
def phantom() -> dict[str, np.ndarray]:
    return chest_phantom()
