"""The vault's constants: chunking and the on-disk format."""

from __future__ import annotations

# Plaintext is encrypted in chunks of this size (the last chunk may be shorter), so memory stays
# bounded by about two chunks whatever the object's size. Stored per object, so it may change.
DEFAULT_CHUNK_SIZE = 1024 * 1024
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 64 * 1024 * 1024

DATA_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96-bit GCM nonce, fresh and random for every chunk
TAG_BYTES = 16  # GCM authentication tag
# Each stored chunk is nonce + ciphertext + tag: the plaintext length plus this.
CHUNK_OVERHEAD = NONCE_BYTES + TAG_BYTES

# Every blob starts with this, so a later format can be told apart.
BLOB_MAGIC = b"ACCVLT01"

# The standard's retention until agreements set their own (an ISO 8601 duration).
DEFAULT_RETENTION = "P1Y"

STORED_ACTION = "vault.object.stored"
SHREDDED_ACTION = "vault.object.shredded"
HOLD_PLACED_ACTION = "vault.object.legal_hold_placed"
HOLD_RELEASED_ACTION = "vault.object.legal_hold_released"
