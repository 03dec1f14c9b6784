"""Realistic fake leads: a person per lead, answers for every question type, several locales.

Deterministic: the same locale, seed and `today` give the same leads in the same order (Faker
and our choices both draw from the seed). Nothing here can reach a real person:

- emails use only the reserved example domains (example.com/.org/.net, RFC 2606);
- phone numbers (E.164, valid for the locale's country per libphonenumber) come from the ranges
  regulators reserve for fiction where one exists: NANP 555-0100..0199 (US, CA), Ofcom's drama
  numbers (GB), the Bundesnetzagentur's "Drama Numbers" (DE), ARCEP's fiction ranges (FR), ACMA's
  fictitious numbers (AU). Spain publishes no such range: es_ES numbers are random valid mobile
  numbers and may be assigned to someone, so a flow must never call or text sandbox leads.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from faker import Faker

from leadwire.connectors.pinterest.leads import FieldType, QuestionType
from leadwire.sandbox.answers import Value

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
GENDERS = ("Female", "Male", "Non-binary", "Prefer not to say")
_GENDER_WEIGHTS = (48, 47, 3, 2)
MIN_AGE, MAX_AGE = 18, 80
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"})
_MAX_PHONE_TRIES = 100


@dataclass(frozen=True)
class LocaleProfile:
    """A locale's country, and where its fictional phone numbers live (prefix, digits after)."""

    region: str
    country: str
    phone_ranges: tuple[tuple[str, int], ...]


def _nanp(area_codes: Sequence[int]) -> tuple[tuple[str, int], ...]:
    return tuple((f"+1{area}55501", 2) for area in area_codes)


LOCALES: Mapping[str, LocaleProfile] = {
    "en_US": LocaleProfile(
        "US", "United States", _nanp((201, 202, 212, 305, 312, 415, 512, 617, 702, 919))
    ),
    "en_CA": LocaleProfile("CA", "Canada", _nanp((204, 306, 403, 416, 506, 514, 604, 613))),
    "en_GB": LocaleProfile(
        "GB",
        "United Kingdom",
        (
            ("+442079460", 3),
            ("+441914980", 3),
            *((f"+44{area}4960", 3) for area in (113, 114, 116, 117, 118, 121, 131, 141, 161)),
        ),
    ),
    "en_AU": LocaleProfile("AU", "Australia", tuple((f"+61{a}5550", 4) for a in (2, 3, 7, 8))),
    "de_DE": LocaleProfile(
        "DE",
        "Germany",
        tuple((f"+49{p}", 3) for p in ("3023125", "6990009", "4066969", "2214710", "8999998")),
    ),
    "fr_FR": LocaleProfile(
        "FR", "France", tuple((f"+33{p}", 4) for p in ("19900", "26191", "35301", "46571", "53649"))
    ),
    # No range reserved for fiction: random mobile numbers, checked valid (see module doc).
    "es_ES": LocaleProfile("ES", "Spain", (("+346", 8),)),
}


@dataclass(frozen=True)
class Person:
    """The one person behind a lead: every answer of the lead is about them."""

    first_name: str
    last_name: str
    gender: str
    email: str
    phone: str
    birth_date: date
    age: int
    street: str
    city: str
    state: str
    postcode: str
    country: str


def ascii_slug(text: str) -> str:
    """Return `text` folded to lower-case ASCII letters and digits (`Jürgen` → `jurgen`)."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


class LeadGenerator:
    """Makes people and their answers for one locale, deterministically from a seed."""

    def __init__(self, locale: str = "en_US", seed: int = 0, *, today: date | None = None):
        if locale not in LOCALES:
            raise ValueError(f"locale {locale!r} is not one of {', '.join(LOCALES)}")
        self.locale = locale
        self.profile = LOCALES[locale]
        self._faker = Faker(locale)
        self._faker.seed_instance(seed)
        self._rng = random.Random(seed)
        self._today = today or datetime.now(UTC).date()

    def person(self) -> Person:
        """Return a new person."""
        fake, rng = self._faker, self._rng
        gender = rng.choices(GENDERS, _GENDER_WEIGHTS)[0]
        if gender == "Female":
            first = fake.first_name_female()
        elif gender == "Male":
            first = fake.first_name_male()
        else:
            first = fake.first_name()
        last = fake.last_name()
        age = rng.randint(MIN_AGE, MAX_AGE)
        # Born after this day (age + 1 years ago) and on or before the day `age` years ago.
        earliest = _years_before(self._today, age + 1) + timedelta(days=1)
        latest = _years_before(self._today, age)
        born = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
        return Person(
            first_name=first,
            last_name=last,
            gender=gender,
            email=self._email(first, last),
            phone=self.phone(),
            birth_date=born,
            age=age,
            # One line: some locales put a flat or studio on a line of its own.
            street=", ".join(p.strip() for p in fake.street_address().splitlines() if p.strip()),
            city=fake.city(),
            state=fake.administrative_unit(),
            postcode=fake.postcode(),
            country=self.profile.country,
        )

    def _email(self, first: str, last: str) -> str:
        rng = self._rng
        given, family = ascii_slug(first) or "lead", ascii_slug(last) or "person"
        local = rng.choice(
            (
                f"{given}.{family}",
                f"{given}{family}",
                f"{given}_{family}",
                f"{given[0]}.{family}",
                f"{given}.{family}{rng.randint(1, 99)}",
                f"{family}.{given}{rng.randint(1950, 2007)}",
            )
        )
        return f"{local}@{rng.choice(EMAIL_DOMAINS)}"

    def phone(self) -> str:
        """Return a phone number in E.164, valid for the locale's country."""
        for _ in range(_MAX_PHONE_TRIES):
            prefix, digits = self._rng.choice(self.profile.phone_ranges)
            number = prefix + "".join(str(self._rng.randrange(10)) for _ in range(digits))
            parsed = phonenumbers.parse(number)
            if phonenumbers.is_valid_number(parsed) and (
                phonenumbers.region_code_for_number(parsed) == self.profile.region
            ):
                return number
        raise RuntimeError(f"no valid {self.profile.region} number in {_MAX_PHONE_TRIES} tries")

    def answers(self, questions: Sequence[Mapping[str, Any]]) -> list[Value]:
        """Return one new person's answers to `questions` (stored form questions), in order."""
        who = self.person()
        return [self._answer(q, who) for q in questions]

    def _answer(self, question: Mapping[str, Any], who: Person) -> Value:
        kind = QuestionType(question["question_type"])
        if kind is QuestionType.CUSTOM:
            return self._custom(question)
        standard: dict[QuestionType, str] = {
            QuestionType.FULL_NAME: f"{who.first_name} {who.last_name}",
            QuestionType.FIRST_NAME: who.first_name,
            QuestionType.LAST_NAME: who.last_name,
            QuestionType.EMAIL: who.email,
            QuestionType.PHONE_NUMBER: who.phone,
            QuestionType.ZIP_CODE: who.postcode,
            QuestionType.GENDER: who.gender,
            QuestionType.CITY: who.city,
            QuestionType.COUNTRY: who.country,
            QuestionType.STATE_PROVINCE: who.state,
            QuestionType.ADDRESS: who.street,
            QuestionType.DATE_OF_BIRTH: who.birth_date.isoformat(),
            QuestionType.AGE: str(who.age),
        }
        return standard[kind]

    def _custom(self, question: Mapping[str, Any]) -> Value:
        field = question.get("custom_question_field_type")
        options: list[str] = list(question.get("custom_question_options") or [])
        rng = self._rng
        if field in (FieldType.RADIO_LIST.value, FieldType.CHECKBOX.value) and not options:
            raise ValueError(f"a {field} question without options cannot be answered")
        if field == FieldType.RADIO_LIST.value:
            return rng.choice(options)
        if field == FieldType.CHECKBOX.value:
            chosen = set(rng.sample(options, rng.randint(1, len(options))))
            return [o for o in options if o in chosen]
        if field == FieldType.TEXT_AREA.value:
            sentences = self._faker.sentences(rng.randint(1, 3))
            # Now and then on several lines, as people type them: exports must quote those.
            return ("\n" if rng.random() < 0.3 else " ").join(sentences)
        return self._short_text(str(question.get("custom_question_label") or ""))

    def _short_text(self, label: str) -> str:
        words = label.casefold()
        fake = self._faker
        if any(w in words for w in ("company", "business", "organi", "firma", "entreprise")):
            return str(fake.company())
        if any(w in words for w in ("job", "title", "role", "position", "beruf", "poste")):
            return str(fake.job())
        if any(w in words for w in ("website", "url", "web site", "homepage")):
            return f"https://{ascii_slug(fake.company()) or 'www'}.example.com"
        return str(fake.sentence(nb_words=5)).rstrip(".")
