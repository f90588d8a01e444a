from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    """A key that is not Accord's: what a forger would sign with."""
    return Ed25519PrivateKey.generate()
