"""The lead generator: valid answers for every question type in every locale, by seed; its CLI."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from email_validator import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from leadwire.cli.sandbox import app
from leadwire.connectors.pinterest.leads import QuestionType
from leadwire.sandbox import admin, keys
from leadwire.sandbox.answers import pair_answers
from leadwire.sandbox.generator import EMAIL_DOMAINS, GENDERS, LOCALES, LeadGenerator, ascii_slug
from leadwire.sandbox.ids import new_id
from leadwire.sandbox.models import Delivery, SandboxLead, Subscription
from leadwire.sandbox.store import open_store
from tests.sandbox.conftest import sandbox_settings

ROOMS = ["Kitchen, large", "Bath", "Garden", "Attic", "Cellar"]
BUDGETS = ["Under $1,000", "$1,000 to $5,000", "Over $5,000"]


def _custom(field: str, label: str, options: list[str] | None = None) -> dict[str, Any]:
    return {
        "question_type": "CUSTOM",
        "custom_question_field_type": field,
        "custom_question_label": label,
        "custom_question_options": options,
    }


# Every question type at once (more than a form may hold: the generator does not mind).
QUESTIONS: list[dict[str, Any]] = [
    *({"question_type": t.value} for t in QuestionType if t is not QuestionType.CUSTOM),
    _custom("TEXT_FIELD", "Company name"),
    _custom("TEXT_FIELD", "Job title"),
    _custom("TEXT_FIELD", "Website"),
    _custom("TEXT_FIELD", "Anything else?"),
    _custom("TEXT_AREA", "What are you looking for?"),
    _custom("RADIO_LIST", "Budget", BUDGETS),
    _custom("CHECKBOX", "Rooms", ROOMS),
]
locales = st.sampled_from(sorted(LOCALES))
seeds = st.integers(min_value=0, max_value=2**64)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


def by_label(values: list[Any]) -> dict[str, Any]:
    """Return answers keyed by question type, or label for CUSTOM ones."""
    return {
        q.get("custom_question_label") or q["question_type"]: v
        for q, v in zip(QUESTIONS, values, strict=True)
    }


def age_on(born: date, today: date) -> int:
    """Return someone's age in whole years."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@given(locale=locales, seed=seeds, today=days)
@settings(max_examples=80, deadline=None)
def test_every_answer_is_valid_for_its_question(locale: str, seed: int, today: date) -> None:
    profile = LOCALES[locale]
    values = LeadGenerator(locale, seed, today=today).answers(QUESTIONS)
    pair_answers(QUESTIONS, values)  # what the store accepts
    a = by_label(values)

    email = validate_email(a["EMAIL"], check_deliverability=False)
    assert email.domain in EMAIL_DOMAINS
    assert a["EMAIL"].isascii()
    phone = phonenumbers.parse(a["PHONE_NUMBER"])
    assert phonenumbers.is_valid_number(phone)
    assert phonenumbers.region_code_for_number(phone) == profile.region
    assert (
        phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)
        == (a["PHONE_NUMBER"])
    )
    assert a["FULL_NAME"] == f"{a['FIRST_NAME']} {a['LAST_NAME']}"
    assert ascii_slug(a["LAST_NAME"]) in a["EMAIL"]
    born = date.fromisoformat(a["DATE_OF_BIRTH"])
    assert 18 <= int(a["AGE"]) <= 80
    assert age_on(born, today) == int(a["AGE"])
    assert a["GENDER"] in GENDERS
    assert a["COUNTRY"] == profile.country
    for single_line in ("ADDRESS", "CITY", "ZIP_CODE", "STATE_PROVINCE", "Company name"):
        assert a[single_line].strip()
        assert "\n" not in a[single_line]
    assert a["Website"].endswith(".example.com")
    assert a["What are you looking for?"].strip()
    assert a["Budget"] in BUDGETS
    rooms = a["Rooms"]
    assert rooms
    assert rooms == [r for r in ROOMS if r in rooms]  # a subset, in the form's order, no repeats


@given(locale=locales, seed=seeds)
@settings(max_examples=25, deadline=None)
def test_the_same_seed_makes_the_same_people(locale: str, seed: int) -> None:
    today = date(2025, 6, 1)
    first = LeadGenerator(locale, seed, today=today)
    second = LeadGenerator(locale, seed, today=today)
    assert [first.answers(QUESTIONS) for _ in range(3)] == [
        second.answers(QUESTIONS) for _ in range(3)
    ]


def test_other_seeds_make_other_people() -> None:
    people = {tuple(map(str, LeadGenerator("en_GB", s).answers(QUESTIONS))) for s in range(6)}
    assert len(people) == 6


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_fictional_range_holds_valid_numbers(locale: str) -> None:
    profile = LOCALES[locale]
    rng = random.Random(locale)
    for prefix, digits in profile.phone_ranges:
        suffixes = {"0" * digits, "9" * digits}
        suffixes |= {str(rng.randrange(10**digits)).zfill(digits) for _ in range(20)}
        valid = [
            phonenumbers.is_valid_number(phonenumbers.parse(prefix + s))
            and phonenumbers.region_code_for_number(phonenumbers.parse(prefix + s))
            == profile.region
            for s in sorted(suffixes)
        ]
        # Reserved ranges are valid throughout; Spain's random mobile range mostly.
        assert all(valid) if locale != "es_ES" else sum(valid) > len(valid) // 2, prefix


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="locale"):
        LeadGenerator("xx_XX")
    with pytest.raises(ValueError, match="options"):
        LeadGenerator().answers([_custom("RADIO_LIST", "Pick", [])])


# The CLI: `sandbox leads` records generated leads with their deliveries; `deliveries` shows them.

runner = CliRunner()


def test_sandbox_leads_records_leads_and_queues_their_deliveries(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    store = open_store(settings)
    with store.sessions() as session:
        user = admin.create_user(session, "cli")
        account = admin.create_ad_account(session, user.id, "cli")
        form = admin.create_demo_hierarchy(session, account.id).ads[1].lead_form_id
        sub_id = new_id()
        session.add(
            Subscription(
                id=sub_id,
                ad_account_id=account.id,
                lead_form_id=None,
                lead_form_key="*",
                webhook_url="http://127.0.0.1:9/hook",
                user_account_id=user.id,
                key_ciphertext=keys.seal(
                    keys.load_master_key(settings), sub_id, keys.new_subscription_key()
                ),
            )
        )
        session.commit()
    args = ["leads", "--form", form, "--count", "3", "--rate", "500", "--seed", "7"]
    first = runner.invoke(app, [*args, "--locale", "fr_FR"], obj=settings)
    assert first.exit_code == 0, first.output
    assert "recorded 3 lead(s)" in first.output
    assert "3 delivery(ies) queued" in first.output
    again = runner.invoke(app, [*args, "--locale", "fr_FR"], obj=settings)
    assert again.exit_code == 0, again.output

    with store.read_sessions() as session:
        leads = session.scalars(select(SandboxLead).order_by(SandboxLead.id)).all()
        queued = session.scalars(select(Delivery).where(Delivery.status == "pending")).all()
    assert len(leads) == 6
    assert {lead.source for lead in leads} == {"generator"}
    assert [lead.answers for lead in leads[:3]] == [lead.answers for lead in leads[3:]]
    assert "+33" in str(leads[0].answers)
    assert len(queued) == 6

    shown = runner.invoke(
        app, ["deliveries", "--status", "pending"], obj=settings, env={"COLUMNS": "250"}
    )
    assert shown.exit_code == 0, shown.output
    for lead in leads:
        assert lead.id in shown.output
    assert sub_id in shown.output
    none = runner.invoke(
        app, ["deliveries", "--status", "delivered"], obj=settings, env={"COLUMNS": "250"}
    )
    assert leads[0].id not in none.output
    store.engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ["leads", "--form", "123"],
        ["leads", "--form", "123", "--locale", "xx_XX"],
        ["leads", "--form", "123", "--rate", "0"],
        ["deliveries", "--status", "lost"],
    ],
)
def test_sandbox_leads_refuses_bad_options(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, args, obj=sandbox_settings(tmp_path))
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("command", ["leads", "deliveries"])
def test_the_commands_have_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
