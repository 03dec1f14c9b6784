"""The leads-export file behind `download_url`: reading it into `Lead`s, and writing it.

Pinterest does not document this file (reference §3.3, §12 item 3). The format here is the one
agreed with the sandbox in `helper-notes/export-format.md` — an ASSUMPTION kept in this one module:

- UTF-8 CSV (RFC 4180; a BOM is tolerated), a header row, one record per lead.
- Fixed columns: lead_id, created_time (ISO-8601 UTC), ad_account_id, ad_id, ad_group_id,
  campaign_id, lead_form_id, is_test (`true`/`false`); empty optional ids mean none.
- Then one column per question in form order, headed `TYPE` or `TYPE:FIELD_TYPE:label`
  (`CUSTOM:CHECKBOX:Favourite animal?`, `CUSTOM::Anything else?`). An unknown upper-case TYPE is
  read as a CUSTOM question labelled with that name, so a type Pinterest adds loses no answer.
- Answer cells hold the text; a CHECKBOX cell holds a JSON array of the chosen options; an empty
  cell (or `[]`) means the lead did not answer that question.

Anything else raises `DecodeError` naming the row (header = row 1) and the column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

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

MAX_EXPORT_BYTES = 64 * 1024 * 1024
FIXED_COLUMNS = (
    "lead_id",
    "created_time",
    "ad_account_id",
    "ad_id",
    "ad_group_id",
    "campaign_id",
    "lead_form_id",
    "is_test",
)
_OPTIONAL_IDS = frozenset({"ad_id", "ad_group_id", "campaign_id"})
_ID = re.compile(r"[0-9]{1,32}")
_TYPE_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class QuestionColumn:
    """A question column: what its answers answer."""

    question_type: QuestionType
    field_type: FieldType | None = None
    label: str | None = None

    @classmethod
    def of(cls, answer: Answer) -> QuestionColumn:
        """Return the column an answer belongs in."""
        return cls(answer.question_type, answer.field_type, answer.label)

    def header(self) -> str:
        """Return this column's header cell."""
        if self.field_type is None and not self.label:
            return self.question_type.value
        field = self.field_type.value if self.field_type else ""
        return f"{self.question_type.value}:{field}:{self.label or ''}"

    @classmethod
    def parse(cls, header: str) -> QuestionColumn:
        """Return the column a header names; raise `ValueError` if it names none."""
        parts = header.split(":", 2)
        if len(parts) == 2:
            raise ValueError("expected TYPE or TYPE:FIELD_TYPE:label")
        type_name = parts[0]
        field_name, label = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
        if _TYPE_NAME.fullmatch(type_name) is None:
            raise ValueError(f"{type_name!r} is not a question type")
        if field_name and _TYPE_NAME.fullmatch(field_name) is None:
            raise ValueError(f"{field_name!r} is not a field type")
        # A field type Pinterest adds later (5.11 had DROPDOWN) reads as a plain single answer.
        field = FieldType(field_name) if field_name in FieldType.__members__ else None
        if type_name in QuestionType.__members__:
            return cls(QuestionType(type_name), field, label or None)
        return cls(QuestionType.CUSTOM, field, label or type_name)


def _cell(answer: Answer) -> str:
    if answer.field_type is FieldType.CHECKBOX:
        return json.dumps(list(answer.values), ensure_ascii=False, separators=(",", ":"))
    return answer.value


def _iso_ms(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _match(columns: list[QuestionColumn], answers: Sequence[Answer], grow: bool) -> list[int]:
    """Return the column of each answer, in increasing order (inserting columns if `grow`)."""
    placed: list[int] = []
    previous = -1
    for answer in answers:
        wanted = QuestionColumn.of(answer)
        index = next((i for i in range(previous + 1, len(columns)) if columns[i] == wanted), None)
        if index is None:
            if not grow:
                raise ValueError("answer has no column")  # unreachable after the growing pass
            index = previous + 1
            columns.insert(index, wanted)
        placed.append(index)
        previous = index
    return placed


def write_export(leads: Sequence[Lead], questions: Sequence[QuestionColumn] = ()) -> bytes:
    """Return the export file of `leads`; columns are `questions`, plus any others answered.

    A question no column holds yet is inserted right after the column of the lead's previous
    answer, so every lead's answers sit in increasing columns and read back in their order.
    """
    columns = list(questions)
    for lead in leads:
        _match(columns, lead.answers, grow=True)
    placed = [_match(columns, lead.answers, grow=False) for lead in leads]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*FIXED_COLUMNS, *(c.header() for c in columns)])
    for lead, indexes in zip(leads, placed, strict=True):
        row = [
            lead.lead_id,
            _iso_ms(lead.created_time),
            lead.ad_account_id,
            lead.ad_id or "",
            lead.ad_group_id or "",
            lead.campaign_id or "",
            lead.lead_form_id,
            "true" if lead.is_test else "false",
        ] + [""] * len(columns)
        for index, answer in zip(indexes, lead.answers, strict=True):
            row[len(FIXED_COLUMNS) + index] = _cell(answer)
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


class _Layout:
    """Where each fixed column is, and what each question column is."""

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        self.fixed: dict[str, int] = {}
        self.questions: list[tuple[int, QuestionColumn]] = []
        for index, name in enumerate(header):
            if name in FIXED_COLUMNS:
                if name in self.fixed:
                    raise DecodeError(f"leads export row 1: column {name!r} appears twice")
                self.fixed[name] = index
                continue
            try:
                self.questions.append((index, QuestionColumn.parse(name)))
            except ValueError as exc:
                raise DecodeError(
                    f"leads export row 1, column {index + 1} {name[:80]!r}: {exc}"
                ) from None
        missing = [name for name in FIXED_COLUMNS if name not in self.fixed]
        if missing:
            raise DecodeError(f"leads export row 1: missing column(s) {', '.join(missing)}")

    def lead(self, row: list[str], number: int) -> Lead:
        if len(row) != self.width:
            raise DecodeError(
                f"leads export row {number}: {len(row)} cells, the header has {self.width}"
            )

        def cell(name: str) -> str:
            return row[self.fixed[name]]

        def problem(name: str, what: str) -> DecodeError:
            return DecodeError(f"leads export row {number}, column {name!r}: {what}")

        ids: dict[str, str | None] = {}
        for name in ("lead_id", "ad_account_id", "lead_form_id", *sorted(_OPTIONAL_IDS)):
            value = cell(name)
            if value == "" and name in _OPTIONAL_IDS:
                ids[name] = None
            elif _ID.fullmatch(value) is None:
                raise problem(name, "not an id (digits)")
            else:
                ids[name] = value
        try:
            created = datetime.fromisoformat(cell("created_time"))
        except ValueError:
            raise problem("created_time", "not an ISO-8601 time") from None
        if created.tzinfo is None:
            raise problem("created_time", "has no UTC offset")
        flag = cell("is_test").lower()
        if flag not in ("true", "false"):
            raise problem("is_test", "not true or false")
        answers = [
            answer
            for index, question in self.questions
            if (answer := self._answer(question, row[index], number, index)) is not None
        ]
        return Lead(
            lead_id=LeadId(str(ids["lead_id"])),
            ad_account_id=AdAccountId(str(ids["ad_account_id"])),
            lead_form_id=LeadFormId(str(ids["lead_form_id"])),
            created_time=created.astimezone(UTC),
            ad_id=ids["ad_id"],
            campaign_id=ids["campaign_id"],
            ad_group_id=ids["ad_group_id"],
            is_test=flag == "true",
            answers=tuple(answers),
        )

    @staticmethod
    def _answer(question: QuestionColumn, text: str, number: int, index: int) -> Answer | None:
        if text == "":
            return None
        if question.field_type is not FieldType.CHECKBOX:
            values: tuple[str, ...] = (text,)
        else:
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                parsed = None
            if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
                raise DecodeError(
                    f"leads export row {number}, column {index + 1}: "
                    "a CHECKBOX answer must be a JSON array of strings"
                )
            if not parsed:
                return None
            values = tuple(parsed)
        return Answer(
            question_type=question.question_type,
            label=question.label,
            values=values,
            field_type=question.field_type,
        )


def read_export(data: bytes, *, max_bytes: int = MAX_EXPORT_BYTES) -> list[Lead]:
    """Read an export file into leads, in file order; raise `DecodeError` if it is malformed."""
    if len(data) > max_bytes:
        raise DecodeError(f"leads export of {len(data)} bytes exceeds {max_bytes}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DecodeError(f"leads export line {line}: not UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    leads: list[Lead] = []
    layout: _Layout | None = None
    number = 0
    try:
        for row in reader:
            if not row:
                continue  # a blank line is not a record
            number += 1
            if layout is None:
                layout = _Layout(row)
            else:
                leads.append(layout.lead(row, number))
    except csv.Error as exc:
        raise DecodeError(f"leads export row {number + 1}: not valid CSV ({exc})") from None
    if layout is None:
        raise DecodeError("leads export is empty: no header row")
    return leads
