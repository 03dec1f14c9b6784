"""The leads-export file: read into `Lead`s; malformed files name the row and column."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from leadwire.connectors.pinterest.envelope import decode_delivery, encode_delivery
from leadwire.connectors.pinterest.exports import QuestionColumn, read_export, write_export
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
from tests.connectors.strategies import form_leads, leads

HEADER = (
    "lead_id,created_time,ad_account_id,ad_id,ad_group_id,campaign_id,lead_form_id,is_test,"
    'FIRST_NAME,EMAIL,"CUSTOM:CHECKBOX:Pets, if any?",CUSTOM::Notes\r\n'
)
ROW = (
    "9001,2025-12-11T09:30:00.123Z,549755885175,687201361754,,626736533506,7765300871171,false,"
    'Jane,jane@example.com,"[""Dog"",""Cat""]","line one\r\nline two"\r\n'
)
EXPECTED = Lead(
    lead_id=LeadId("9001"),
    ad_account_id=AdAccountId("549755885175"),
    lead_form_id=LeadFormId("7765300871171"),
    created_time=datetime(2025, 12, 11, 9, 30, 0, 123000, tzinfo=UTC),
    ad_id="687201361754",
    campaign_id="626736533506",
    ad_group_id=None,
    is_test=False,
    answers=(
        Answer(QuestionType.FIRST_NAME, None, ("Jane",)),
        Answer(QuestionType.EMAIL, None, ("jane@example.com",)),
        Answer(QuestionType.CUSTOM, "Pets, if any?", ("Dog", "Cat"), FieldType.CHECKBOX),
        Answer(QuestionType.CUSTOM, "Notes", ("line one\r\nline two",)),
    ),
)


def test_reads_the_documented_format() -> None:
    assert read_export((HEADER + ROW).encode()) == [EXPECTED]


def test_tolerates_a_bom_lf_line_ends_and_blank_lines() -> None:
    text = "\ufeff" + HEADER.replace("\r\n", "\n") + "\n" + ROW.replace('"\r\n', '"\n')
    assert read_export(text.encode()) == [EXPECTED]


def test_a_header_alone_is_no_leads() -> None:
    assert read_export(HEADER.encode()) == []


def test_empty_cells_are_unanswered_questions() -> None:
    row = "9002,2025-12-11T09:30:00Z,1,2,3,4,5,true,,,[],\r\n"
    (lead,) = read_export((HEADER + row).encode())
    assert lead.answers == ()
    assert lead.is_test is True


def test_columns_may_come_in_another_order_and_repeat_a_question() -> None:
    text = (
        "EMAIL,lead_form_id,is_test,lead_id,created_time,ad_account_id,ad_id,ad_group_id,"
        "campaign_id,EMAIL\r\n"
        "a@x.example,5,false,1,2025-01-01T00:00:00+02:00,2,,,,b@x.example\r\n"
    )
    (lead,) = read_export(text.encode())
    assert [a.value for a in lead.answers] == ["a@x.example", "b@x.example"]
    assert lead.created_time == datetime(2024, 12, 31, 22, 0, tzinfo=UTC)


def test_an_unknown_upper_case_question_type_loses_no_answer() -> None:
    text = HEADER.replace("FIRST_NAME", "PREFERRED_CONTACT_METHOD") + ROW
    (lead,) = read_export(text.encode())
    assert lead.answers[0] == Answer(QuestionType.CUSTOM, "PREFERRED_CONTACT_METHOD", ("Jane",))


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"", "empty"),
        (HEADER.replace("lead_id,", "").encode() + ROW.encode(), "missing column"),
        (HEADER.replace("EMAIL", "lead_id").encode(), "appears twice"),
        (HEADER.replace("EMAIL", "e-mail").encode(), "column 10 'e-mail'"),
        (HEADER.replace("EMAIL", "EMAIL:TEXT_FIELD").encode(), "column 10"),
        ((HEADER + ROW.replace("9001,", "9a01,", 1)).encode(), "row 2, column 'lead_id'"),
        ((HEADER + ROW.replace("549755885175", "")).encode(), "row 2, column 'ad_account_id'"),
        ((HEADER + ROW.replace(".123Z", "")).encode(), "row 2, column 'created_time': has no"),
        ((HEADER + ROW.replace("2025-12-11T", "yesterday ")).encode(), "column 'created_time'"),
        ((HEADER + ROW.replace(",false,", ",no,")).encode(), "row 2, column 'is_test'"),
        ((HEADER + ROW.replace('""Dog""', "Dog")).encode(), "row 2, column 11"),
        ((HEADER + ROW.replace("Jane,", "")).encode(), "row 2: 11 cells"),
        ((HEADER + ROW + ROW.replace("9001", "9002", 1) + 'x,"unterminated').encode(), "row 4"),
        (HEADER.encode() + b"\xff\xfe\r\n", "line 2: not UTF-8"),
    ],
)
def test_a_malformed_export_names_the_row_and_column(data: bytes, where: str) -> None:
    with pytest.raises(DecodeError) as caught:
        read_export(data)
    assert where in str(caught.value)


def test_an_oversized_export_is_refused() -> None:
    with pytest.raises(DecodeError, match="exceeds 10"):
        read_export(b"x" * 11, max_bytes=10)


@given(st.binary(max_size=1024))
@settings(max_examples=200)
def test_random_bytes_are_leads_or_a_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        read_export(data)


def _exportable(lead: Lead) -> Lead:
    """Return `lead` as an export can hold it: answered questions only."""
    kept = tuple(
        a
        for a in lead.answers
        if (a.values if a.field_type is FieldType.CHECKBOX else a.value != "")
    )
    return Lead(
        lead.lead_id,
        lead.ad_account_id,
        lead.lead_form_id,
        lead.created_time,
        lead.ad_id,
        lead.campaign_id,
        lead.ad_group_id,
        lead.is_test,
        tuple(Answer(a.question_type, a.label or None, a.values, a.field_type) for a in kept),
    )


@given(st.lists(leads(), max_size=4))
@settings(max_examples=100, deadline=None)
def test_write_then_read_gives_the_same_leads(batch: list[Lead]) -> None:
    assert read_export(write_export(batch)) == [_exportable(lead) for lead in batch]


@given(form_leads())
@settings(max_examples=100, deadline=None)
def test_write_then_read_gives_the_same_leads_of_a_form(batch: list[Lead]) -> None:
    assert read_export(write_export(batch)) == [_exportable(lead) for lead in batch]


@given(form_leads())
@settings(max_examples=50, deadline=None)
def test_an_export_and_a_delivery_of_the_same_leads_agree(batch: list[Lead]) -> None:
    assume(batch)
    key = "ucvxbV2Tdss0vNeYsdh4Qfa/1Khm2b0PqXvXeTTZh54"
    from_hook = [_exportable(lead) for lead in decode_delivery(encode_delivery(batch, key), key)]
    assert read_export(write_export(batch)) == from_hook


def test_form_questions_keep_their_order_and_others_go_where_answered() -> None:
    form = [QuestionColumn(QuestionType.FIRST_NAME), QuestionColumn(QuestionType.PHONE_NUMBER)]
    header = write_export([EXPECTED], form).split(b"\r\n", 1)[0].decode()
    assert header.endswith(
        'is_test,FIRST_NAME,EMAIL,"CUSTOM:CHECKBOX:Pets, if any?",CUSTOM::Notes,PHONE_NUMBER'
    )
    assert read_export(write_export([EXPECTED], form)) == [EXPECTED]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("EMAIL", QuestionColumn(QuestionType.EMAIL)),
        ("CUSTOM::Anything else?", QuestionColumn(QuestionType.CUSTOM, None, "Anything else?")),
        ("CUSTOM:RADIO_LIST:a:b", QuestionColumn(QuestionType.CUSTOM, FieldType.RADIO_LIST, "a:b")),
        ("CUSTOM:DROPDOWN:Size", QuestionColumn(QuestionType.CUSTOM, None, "Size")),
        ("EMAIL::Work email", QuestionColumn(QuestionType.EMAIL, None, "Work email")),
    ],
)
def test_question_headers(header: str, column: QuestionColumn) -> None:
    assert QuestionColumn.parse(header) == column
