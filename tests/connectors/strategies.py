"""Hypothesis strategies for leads and subscription keys."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    FieldType,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ids = st.from_regex(r"[0-9]{1,19}", fullmatch=True)
moments = st.integers(min_value=0, max_value=4_102_444_800_000).map(
    lambda ms: EPOCH + timedelta(milliseconds=ms)
)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    """An answer as a delivery can carry it: several values only for CHECKBOX."""
    field_type = draw(st.none() | st.sampled_from(FieldType))
    if field_type is FieldType.CHECKBOX:
        values = tuple(draw(st.lists(st.text(max_size=30), max_size=5)))
    else:
        values = (draw(st.text(max_size=60)),)
    return Answer(
        question_type=draw(st.sampled_from(QuestionType)),
        label=draw(st.none() | st.text(max_size=40)),
        values=values,
        field_type=field_type,
    )


@st.composite
def leads(draw: st.DrawFn, max_answers: int = 8) -> Lead:
    """A lead with aware, millisecond-precise time and any answers."""
    return Lead(
        lead_id=LeadId(draw(ids)),
        ad_account_id=AdAccountId(draw(ids)),
        lead_form_id=LeadFormId(draw(ids)),
        created_time=draw(moments),
        ad_id=draw(st.none() | ids),
        campaign_id=draw(st.none() | ids),
        ad_group_id=draw(st.none() | ids),
        is_test=draw(st.booleans()),
        answers=tuple(draw(st.lists(answers(), max_size=max_answers))),
    )


@st.composite
def keys(draw: st.DrawFn) -> tuple[bytes, str]:
    """A 32-byte key and one of its base64 spellings: standard or URL-safe, padded or not."""
    raw = draw(st.binary(min_size=32, max_size=32))
    text = draw(st.sampled_from([base64.b64encode, base64.urlsafe_b64encode]))(raw).decode()
    if draw(st.booleans()):
        text = text.rstrip("=")
    return raw, text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def form_leads(draw: st.DrawFn) -> list[Lead]:
    """Leads of one form: each answers some of the same questions, in the form's order."""
    form = draw(
        st.lists(
            st.tuples(
                st.sampled_from(QuestionType),
                st.none() | st.sampled_from(FieldType),
                st.none() | st.text(min_size=1, max_size=20),
            ),
            max_size=6,
            unique=True,  # a form does not ask the very same question twice
        )
    )
    batch: list[Lead] = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        base = draw(leads(max_answers=0))
        answered: list[Answer] = []
        for question_type, field_type, label in form:
            if field_type is FieldType.CHECKBOX:
                values = tuple(draw(st.lists(st.text(max_size=20), min_size=1, max_size=5)))
            else:
                values = (draw(st.text(min_size=1, max_size=40)),)
            if draw(st.booleans()):
                answered.append(Answer(question_type, label, values, field_type))
        batch.append(replace(base, answers=tuple(answered)))
    return batch
