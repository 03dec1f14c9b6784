"""The encrypted webhook delivery: its layout, decoding (receiver) and encoding (sandbox).

Pinterest documents only that lead data is encrypted with AES-256-GCM under the subscription's
`cryptographic_key` (base64, 32 bytes), that the body is a JSON array whose objects start with
`advertiser_id`, `lead_form_id`, `ad_id`, and that `lead_id` identifies a lead
(`shared/reference/pinterest-lead-ads.md` §8). Everything else below is OUR ASSUMPTION, kept in
this one module so that a real captured delivery changes only this file:

Body: a JSON array of delivery objects, each::

    {
      "advertiser_id": "<digits>",     # the ad account, in clear
      "lead_form_id": "<digits>",
      "ad_id": "<digits>" | null,
      "campaign_id": "<digits>" | null,
      "ad_group_id": "<digits>" | null,
      "lead_id": "<digits>",
      "created_time": <int, Unix milliseconds>,
      "is_test": <bool>,
      "cryptographic_algorithm": "AES-256-GCM",
      "encrypted_lead_data": "<base64: nonce (12 bytes) | ciphertext | GCM tag (16 bytes)>"
    }

No associated data. The plaintext is UTF-8 JSON::

    {"lead_id": "<digits>", "answers": [
       {"question_type": "<LeadFormQuestionType>", "custom_question_field_type": <or null>,
        "question_label": "<label shown to the user>" | null,
        "answer": "<text>" | ["<choice>", ...]}, ...]}

The decrypted `lead_id` must equal the clear one, so a clear header cannot be swapped onto
another lead's data; the other clear fields are not authenticated (no associated data). Keys
(and `encrypted_lead_data`) are accepted as standard or URL-safe base64, with or without padding.

Strictness, because a receiver answers 4xx to what this rejects and Pinterest then never retries:
a JSON object with a repeated key, an id that is not ASCII digits, a number where text belongs (or
the reverse) are errors; a question type or field type Pinterest may add later is NOT — an unknown
upper-case question type is read as a CUSTOM question labelled with the type's name, an unknown
field type as none, so a lead is never lost over an enum value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

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

ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
MAX_BODY_BYTES = 1_048_576
_DIGITS = r"^[0-9]{1,32}$"  # ASCII: pydantic's `\d` also admits digits of other scripts
_ENUM_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def _known_field_type(value: object) -> object:
    if isinstance(value, str) and value not in FieldType.__members__:
        if _ENUM_NAME.fullmatch(value) is None:
            raise ValueError(f"{value[:40]!r} is not a field type")
        return None  # a field type added upstream (5.11 had DROPDOWN): read as plain text
    return value


_FieldTypeWire = Annotated[FieldType | None, BeforeValidator(_known_field_type)]
_Text = Annotated[str, Field(strict=True)]


class _AnswerWire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    question_type: str = Field(max_length=64)
    custom_question_field_type: _FieldTypeWire = Field(default=None, strict=False)
    question_label: str | None = Field(default=None, max_length=2000)
    answer: str | list[_Text] = Field(max_length=10_000)

    def question(self) -> tuple[QuestionType, str | None]:
        """Return the question type, reading an unknown upper-case one as a labelled CUSTOM."""
        if self.question_type in QuestionType.__members__:
            return QuestionType(self.question_type), self.question_label
        if _ENUM_NAME.fullmatch(self.question_type) is None:
            raise DecodeError(f"question_type {self.question_type[:40]!r} is not a type name")
        return QuestionType.CUSTOM, self.question_label or self.question_type


class _PlainWire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    lead_id: str = Field(pattern=_DIGITS)
    answers: list[_AnswerWire] = Field(max_length=100)


class _DeliveryWire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    advertiser_id: str = Field(pattern=_DIGITS)
    lead_form_id: str = Field(pattern=_DIGITS)
    ad_id: str | None = Field(default=None, pattern=_DIGITS)
    campaign_id: str | None = Field(default=None, pattern=_DIGITS)
    ad_group_id: str | None = Field(default=None, pattern=_DIGITS)
    lead_id: str = Field(pattern=_DIGITS)
    created_time: int = Field(ge=0, le=10**14)
    is_test: bool = False
    cryptographic_algorithm: str = ALGORITHM
    encrypted_lead_data: str = Field(max_length=2 * MAX_BODY_BYTES)


def _b64decode(text: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raise `ValueError` otherwise."""
    text = text.strip().rstrip("=").replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def decode_key(key_b64: str) -> bytes:
    """Return the 32 key bytes of a base64 key (standard or URL-safe, padding optional)."""
    try:
        key = _b64decode(key_b64)
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise DecodeError("the subscription key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise DecodeError(f"the subscription key has {len(key)} bytes; AES-256 needs {KEY_BYTES}")
    return key


def _decrypt(key: bytes, blob_b64: str) -> bytes:
    try:
        blob = _b64decode(blob_b64)
    except (binascii.Error, ValueError):
        raise DecodeError("encrypted_lead_data is not valid base64") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecodeError("encrypted_lead_data is too short to hold a nonce and a tag")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None)
    except InvalidTag:
        raise DecodeError(
            "encrypted_lead_data does not decrypt with this subscription's key "
            "(wrong key, or the data was altered)"
        ) from None


def _lead(item: _DeliveryWire, plain: _PlainWire) -> Lead:
    if plain.lead_id != item.lead_id:
        raise DecodeError(
            f"decrypted lead_id {plain.lead_id} differs from the delivery's {item.lead_id}"
        )
    answers: list[Answer] = []
    for a in plain.answers:
        question_type, label = a.question()
        answers.append(
            Answer(
                question_type=question_type,
                label=label,
                values=tuple(a.answer) if isinstance(a.answer, list) else (a.answer,),
                field_type=a.custom_question_field_type,
            )
        )
    return Lead(
        lead_id=LeadId(item.lead_id),
        ad_account_id=AdAccountId(item.advertiser_id),
        lead_form_id=LeadFormId(item.lead_form_id),
        created_time=_EPOCH + item.created_time * _ONE_MS,
        ad_id=item.ad_id,
        campaign_id=item.campaign_id,
        ad_group_id=item.ad_group_id,
        is_test=item.is_test,
        answers=tuple(answers),
    )


def decode_delivery(body: bytes, key_b64: str) -> list[Lead]:
    """Decrypt and parse a webhook body into leads; raise `DecodeError` for anything else."""
    if len(body) > MAX_BODY_BYTES:
        raise DecodeError(f"delivery body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    key = decode_key(key_b64)
    raw = _parse_json(body, "delivery body")
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise DecodeError("delivery body is not a non-empty JSON array of leads")
    leads: list[Lead] = []
    for index, element in enumerate(raw):
        try:
            item = _DeliveryWire.model_validate(element)
        except ValidationError as exc:
            raise DecodeError(f"delivery item {index}: {_first_problem(exc)}") from None
        if item.cryptographic_algorithm.upper() != ALGORITHM:
            raise DecodeError(
                f"delivery item {index}: algorithm {item.cryptographic_algorithm!r} "
                f"is not {ALGORITHM}"
            )
        plain_json = _parse_json(_decrypt(key, item.encrypted_lead_data), f"item {index} lead data")
        try:
            plain = _PlainWire.model_validate(plain_json)
        except ValidationError as exc:
            raise DecodeError(f"delivery item {index}: lead data {_first_problem(exc)}") from None
        try:
            leads.append(_lead(item, plain))
        except DecodeError as exc:
            raise DecodeError(f"delivery item {index}: {exc}") from None
    return leads


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # Two values for one key: which one a reader takes is parser-dependent; refuse both.
            raise DecodeError(f"JSON object repeats the key {key[:40]!r}")
        result[key] = value
    return result


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data, object_pairs_hook=_unique_keys)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise DecodeError(f"{what} is not JSON") from None
    except DecodeError as exc:
        raise DecodeError(f"{what}: {exc}") from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def encrypt_lead_data(key_b64: str, plaintext: bytes, nonce: bytes | None = None) -> str:
    """Return base64(nonce | ciphertext | tag) of `plaintext` under the subscription key."""
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    sealed = AESGCM(decode_key(key_b64)).encrypt(nonce, plaintext, None)
    return base64.b64encode(nonce + sealed).decode("ascii")


def _epoch_ms(moment: datetime) -> int:
    # Integer arithmetic: `timestamp() * 1000` is a float and can land 1 ms short.
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return (aware - _EPOCH) // _ONE_MS


def encode_delivery(leads: Sequence[Lead], key_b64: str) -> bytes:
    """Return the webhook body carrying `leads`, encrypted under the subscription key."""
    items: list[dict[str, Any]] = []
    for lead in leads:
        plain = {
            "lead_id": lead.lead_id,
            "answers": [
                {
                    "question_type": a.question_type.value,
                    "custom_question_field_type": a.field_type.value if a.field_type else None,
                    "question_label": a.label,
                    "answer": list(a.values) if a.field_type is FieldType.CHECKBOX else a.value,
                }
                for a in lead.answers
            ],
        }
        items.append(
            {
                "advertiser_id": lead.ad_account_id,
                "lead_form_id": lead.lead_form_id,
                "ad_id": lead.ad_id,
                "campaign_id": lead.campaign_id,
                "ad_group_id": lead.ad_group_id,
                "lead_id": lead.lead_id,
                "created_time": _epoch_ms(lead.created_time),
                "is_test": lead.is_test,
                "cryptographic_algorithm": ALGORITHM,
                "encrypted_lead_data": encrypt_lead_data(
                    key_b64, json.dumps(plain, separators=(",", ":")).encode()
                ),
            }
        )
    return json.dumps(items, separators=(",", ":")).encode()
