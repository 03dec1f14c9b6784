"""The sealed envelope: round trips; any tampering is a `DecodeError` that says why."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.engine.secrets import KeyRing, SecretDecodeError, UnknownKeyError
from leadwire.engine.secrets.envelope import MAGIC, NONCE_BYTES, TAG_BYTES
from leadwire.errors import DecodeError

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
RING = KeyRing.from_spec(f"ka:{KEY_A}")
OWNER = "connection:cn_1:secrets"

owners = st.text(min_size=1, max_size=40)
plaintexts = st.binary(max_size=300)


@given(plaintexts, owners)
def test_round_trip(plaintext: bytes, owner: str) -> None:
    sealed = RING.seal(plaintext, owner)
    assert RING.open(sealed, owner) == plaintext
    assert RING.key_id_of(sealed, owner) == "ka"
    assert sealed.startswith(MAGIC + bytes([2]) + b"ka")
    assert len(sealed) == len(MAGIC) + 1 + 2 + NONCE_BYTES + len(plaintext) + TAG_BYTES


def test_each_sealing_is_different_and_hides_the_plaintext() -> None:
    secret = b"pit-0123456789abcdef"
    first, second = RING.seal(secret, OWNER), RING.seal(secret, OWNER)
    assert first != second  # a fresh nonce every time
    assert secret not in first
    assert secret not in second


@given(plaintexts, st.data())
def test_any_flipped_bit_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    sealed = bytearray(RING.seal(plaintext, OWNER))
    bit = data.draw(st.integers(0, len(sealed) * 8 - 1))
    sealed[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SecretDecodeError):
        RING.open(bytes(sealed), OWNER)


@given(plaintexts, st.data())
def test_any_truncation_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    sealed = RING.seal(plaintext, OWNER)
    cut = data.draw(st.integers(0, len(sealed) - 1))
    with pytest.raises(SecretDecodeError):
        RING.open(sealed[:cut], OWNER)


def test_a_ciphertext_moved_to_another_record_is_refused() -> None:
    sealed = RING.seal(b"secret of one", "connection:cn_1:secrets")
    with pytest.raises(SecretDecodeError, match=r"connection:cn_2:secrets: does not authenticate"):
        RING.open(sealed, "connection:cn_2:secrets")


def test_an_unknown_key_id_names_the_key() -> None:
    other = KeyRing.from_spec(f"kb:{KEY_B}")
    sealed = other.seal(b"x", OWNER)
    with pytest.raises(UnknownKeyError, match=r"sealed with key kb, which this keyring") as info:
        RING.open(sealed, OWNER)
    assert info.value.key_id == "kb"
    assert isinstance(info.value, DecodeError)


def test_another_key_under_the_same_id_is_refused() -> None:
    impostor = KeyRing.from_spec(f"ka:{KEY_B}")
    with pytest.raises(SecretDecodeError, match="does not authenticate under key ka"):
        RING.open(impostor.seal(b"x", OWNER), OWNER)


@pytest.mark.parametrize(
    ("blob", "says"),
    [
        (b"", "not a leadwire envelope"),
        (b"lw2\x02ka" + bytes(40), "not a leadwire envelope"),
        (b"lw1\x02ka" + bytes(10), "truncated"),
        (b"lw1\x02k\xff" + bytes(40), "not ASCII"),
        (b"lw1\x02k/" + bytes(40), "malformed key id"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(blob: bytes, says: str) -> None:
    with pytest.raises(SecretDecodeError, match=says):
        RING.open(blob, OWNER)
