"""The webhook decoder: a bad body gives `DecodeError` and nothing else; good ones round-trip."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadwire.connectors.pinterest.envelope import (
    MAX_BODY_BYTES,
    decode_delivery,
    encode_delivery,
    encrypt_lead_data,
)
from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    FieldType,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)
from leadwire.errors import DecodeError
from tests.connectors.strategies import EPOCH, json_values, keys, leads

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()
LEAD = Lead(
    lead_id=LeadId("9001"),
    ad_account_id=AdAccountId("549755885175"),
    lead_form_id=LeadFormId("7765300871171"),
    created_time=EPOCH,
    ad_id="687201361754",
    answers=(
        Answer(QuestionType.EMAIL, None, ("jane@example.com",)),
        Answer(QuestionType.CUSTOM, "Pets?", ("Dog", "Cat"), FieldType.CHECKBOX),
    ),
)
fuzz = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def delivery_items(leads: list[Lead] | None = None, key: str = KEY) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(encode_delivery(leads or [LEAD], key))
    return items


def body(items: object) -> bytes:
    return json.dumps(items).encode()


def with_plaintext(plain: bytes) -> bytes:
    items = delivery_items()
    items[0]["encrypted_lead_data"] = encrypt_lead_data(KEY, plain)
    return body(items)


@given(st.lists(leads(), min_size=1, max_size=4), keys())
@fuzz
def test_encode_then_decode_gives_the_same_leads(batch: list[Lead], key: tuple[bytes, str]) -> None:
    _, spelled = key
    assert decode_delivery(encode_delivery(batch, spelled), spelled) == batch


@given(keys())
def test_every_spelling_of_a_key_opens_the_same_delivery(key: tuple[bytes, str]) -> None:
    raw, spelled = key
    standard = base64.b64encode(raw).decode()
    assert decode_delivery(encode_delivery([LEAD], standard), spelled) == [LEAD]


@given(st.binary(max_size=2048))
@fuzz
def test_random_bytes_are_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_delivery(data, KEY)


@given(json_values)
@fuzz
def test_json_of_the_wrong_shape_is_a_decode_error(value: object) -> None:
    with pytest.raises(DecodeError):
        decode_delivery(body(value), KEY)


@given(json_values)
@fuzz
def test_lead_data_of_the_wrong_shape_is_a_decode_error(value: object) -> None:
    with pytest.raises(DecodeError):
        decode_delivery(with_plaintext(json.dumps(value).encode()), KEY)


@given(st.binary(max_size=512))
@fuzz
def test_valid_ciphertext_of_invalid_json_is_a_decode_error(plain: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_delivery(with_plaintext(plain), KEY)


@given(st.data())
@fuzz
def test_truncated_ciphertext_is_a_decode_error(data: st.DataObject) -> None:
    items = delivery_items()
    blob = base64.b64decode(items[0]["encrypted_lead_data"])
    cut = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    items[0]["encrypted_lead_data"] = base64.b64encode(blob[:cut]).decode()
    with pytest.raises(DecodeError):
        decode_delivery(body(items), KEY)


@given(st.data())
@fuzz
def test_any_flipped_bit_is_a_decode_error(data: st.DataObject) -> None:
    items = delivery_items()
    blob = bytearray(base64.b64decode(items[0]["encrypted_lead_data"]))
    bit = data.draw(st.integers(min_value=0, max_value=len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    items[0]["encrypted_lead_data"] = base64.b64encode(bytes(blob)).decode()
    with pytest.raises(DecodeError, match="does not decrypt"):
        decode_delivery(body(items), KEY)


def test_a_flipped_tag_bit_is_a_decode_error() -> None:
    items = delivery_items()
    blob = bytearray(base64.b64decode(items[0]["encrypted_lead_data"]))
    blob[-1] ^= 0x80  # the last byte belongs to the GCM tag
    items[0]["encrypted_lead_data"] = base64.b64encode(bytes(blob)).decode()
    with pytest.raises(DecodeError, match="does not decrypt"):
        decode_delivery(body(items), KEY)


@given(keys())
def test_the_wrong_key_is_a_decode_error(key: tuple[bytes, str]) -> None:
    raw, spelled = key
    assume(raw != bytes(range(32)))
    with pytest.raises(DecodeError, match="does not decrypt"):
        decode_delivery(encode_delivery([LEAD], KEY), spelled)


@given(st.binary(max_size=2048), st.integers(min_value=0))
@fuzz
def test_any_corruption_of_a_good_body_is_a_lead_or_a_decode_error(junk: bytes, where: int) -> None:
    good = encode_delivery([LEAD], KEY)
    at = where % (len(good) + 1)
    mangled = good[:at] + junk + good[at + len(junk) // 2 :]
    try:
        decoded = decode_delivery(mangled, KEY)
    except DecodeError:
        return
    # The clear header is not authenticated (only lead_id is cross-checked), so an edit there
    # can survive; the encrypted part cannot change without failing.
    assert [(lead.lead_id, lead.answers) for lead in decoded] == [(LEAD.lead_id, LEAD.answers)]


@pytest.mark.parametrize(
    "key",
    ["", "not base64!", "é" * 43, base64.b64encode(b"short").decode(), KEY + "AAAA", "A"],
)
def test_a_bad_key_is_a_decode_error(key: str) -> None:
    with pytest.raises(DecodeError, match="key"):
        decode_delivery(encode_delivery([LEAD], KEY), key)


def test_a_huge_body_is_refused_before_parsing() -> None:
    with pytest.raises(DecodeError, match="exceeds"):
        decode_delivery(b"[" + b" " * MAX_BODY_BYTES + b"]", KEY)


def test_huge_lead_data_within_the_limit_is_a_decode_error() -> None:
    plain = json.dumps(
        {"lead_id": "9001", "answers": [{"question_type": "EMAIL", "answer": "x" * 20_000}]}
    )
    with pytest.raises(DecodeError, match="lead data"):
        decode_delivery(with_plaintext(plain.encode()), KEY)


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deeply_nested_json_is_a_decode_error(depth: int) -> None:
    with pytest.raises(DecodeError):
        decode_delivery(b"[" * depth + b"]" * depth, KEY)
    with pytest.raises(DecodeError):
        decode_delivery(with_plaintext(b"[" * depth + b"]" * depth), KEY)


def test_a_repeated_key_is_a_decode_error() -> None:
    text = body(delivery_items()).decode()
    twice = text.replace('"lead_id":', '"lead_id": "1", "lead_id":', 1)
    with pytest.raises(DecodeError, match="repeats the key 'lead_id'"):
        decode_delivery(twice.encode(), KEY)
    plain = b'{"lead_id": "9001", "lead_id": "9001", "answers": []}'
    with pytest.raises(DecodeError, match="repeats"):
        decode_delivery(with_plaintext(plain), KEY)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_time", "0"),
        ("created_time", 1.5),
        ("created_time", True),
        ("created_time", -1),
        ("is_test", "true"),
        ("is_test", 1),
        ("lead_id", 9001),
        ("lead_id", "٩٠٠١"),
        ("lead_id", "9001\n"),
        ("advertiser_id", None),
        ("cryptographic_algorithm", "AES-128-CBC"),
        ("encrypted_lead_data", 12),
    ],
)
def test_a_field_of_the_wrong_type_is_a_decode_error(field: str, value: object) -> None:
    items = delivery_items()
    items[0][field] = value
    with pytest.raises(DecodeError, match="item 0"):
        decode_delivery(body(items), KEY)


def test_a_clear_header_swapped_onto_another_leads_data_is_refused() -> None:
    items = delivery_items()
    items[0]["lead_id"] = "9002"
    with pytest.raises(DecodeError, match="differs"):
        decode_delivery(body(items), KEY)


@pytest.mark.parametrize(
    "answer",
    [
        {"question_type": "EMAIL", "answer": 5},
        {"question_type": "EMAIL", "answer": ["a", 1]},
        {"question_type": "email", "answer": "x"},
        {"question_type": 3, "answer": "x"},
        {"question_type": "CUSTOM", "custom_question_field_type": "checkbox", "answer": "x"},
        {"question_type": "EMAIL"},
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_decode_error(answer: dict[str, object]) -> None:
    plain = json.dumps({"lead_id": "9001", "answers": [answer]}).encode()
    with pytest.raises(DecodeError):
        decode_delivery(with_plaintext(plain), KEY)


def test_an_enum_value_pinterest_adds_later_loses_no_answer() -> None:
    plain = json.dumps(
        {
            "lead_id": "9001",
            "answers": [
                {"question_type": "PREFERRED_CONTACT_METHOD", "answer": "Phone"},
                {
                    "question_type": "CUSTOM",
                    "custom_question_field_type": "DROPDOWN",
                    "question_label": "Size",
                    "answer": "M",
                },
            ],
        }
    ).encode()
    (lead,) = decode_delivery(with_plaintext(plain), KEY)
    assert lead.answers == (
        Answer(QuestionType.CUSTOM, "PREFERRED_CONTACT_METHOD", ("Phone",)),
        Answer(QuestionType.CUSTOM, "Size", ("M",)),
    )


def test_a_single_object_body_is_read_as_one_lead() -> None:
    (item,) = delivery_items()
    assert decode_delivery(body(item), KEY) == [LEAD]


def test_an_empty_array_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="non-empty"):
        decode_delivery(b"[]", KEY)


def test_created_time_is_exact_to_the_millisecond() -> None:
    from datetime import timedelta

    moment = EPOCH + timedelta(milliseconds=1_700_000_000_123)
    lead = Lead(LEAD.lead_id, LEAD.ad_account_id, LEAD.lead_form_id, moment)
    assert json.loads(encode_delivery([lead], KEY))[0]["created_time"] == 1_700_000_000_123
    assert decode_delivery(encode_delivery([lead], KEY), KEY)[0].created_time == moment
