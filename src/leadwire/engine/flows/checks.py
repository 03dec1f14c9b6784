"""Checks of a flow beyond its shape: ids, step order, expressions, catalog operations.

Run on every save, so a flow that validates never meets a lead with a typo in it.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence

from pydantic import JsonValue

from leadwire.engine.expressions import (
    ROOTS,
    ExpressionSyntaxError,
    check,
    parse_condition,
    parse_template,
)
from leadwire.engine.expressions.nodes import Node
from leadwire.engine.flows.catalog import OPERATIONS
from leadwire.engine.flows.document import FlowDocument
from leadwire.engine.flows.errors import Location, Problem, dotted
from leadwire.engine.flows.steps import (
    AddNote,
    AddTags,
    AddTask,
    ContactsOperation,
    Enrich,
    FilterStep,
    Route,
    SetStage,
    Step,
    UpsertContact,
    Webhook,
)
from leadwire.engine.flows.triggers import CrmEventTrigger

MAX_BRANCH_DEPTH = 5
RESERVED_HEADER_PREFIX = "x-leadwire-"
CONTACT_STEPS = (AddTags, AddTask, AddNote, Enrich, SetStage)
# What runs of these triggers read besides the lead's names (which a person may still give
# any flow: `leadwire flows run FLOW --lead FILE`).
TRIGGER_ROOTS = {"crm_event": ("event",), "schedule": ("schedule",)}


def needs_contact(step: Step) -> bool:
    """Return whether `step` acts on the contact (so an upsert must come first)."""
    if isinstance(step, CONTACT_STEPS):
        return True
    if isinstance(step, ContactsOperation):
        operation = OPERATIONS.get(step.operation)
        return operation is not None and (
            "contactId" in operation.path_params and "contactId" not in step.path
        )
    return False


class _Checker:
    def __init__(self, document: FlowDocument) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.ids: dict[str, Location] = {}
        self.has_contact = isinstance(document.trigger, CrmEventTrigger)
        self.has_upsert = False

    def add(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, message))

    @property
    def roots(self) -> Collection[str]:
        roots = ROOTS if self.has_contact else tuple(r for r in ROOTS if r != "contact")
        return (*roots, *TRIGGER_ROOTS.get(self.document.trigger.type, ()))

    def _findings(self, location: Location, node: Node, source: str) -> None:
        for finding in check(node, tables=self.document.lookups, roots=self.roots):
            message = finding.message
            if message.startswith("there is no name 'contact'"):
                message = "'contact' is known only after the upsert_contact step"
            where = ExpressionSyntaxError("", source, finding.position)
            self.add(location, f"{message} at column {where.column}")

    def template(self, location: Location, source: str | None) -> None:
        if source is None:
            return
        try:
            template = parse_template(source)
        except ExpressionSyntaxError as exc:
            self.add(location, str(exc))
            return
        for part in template.expressions:
            self._findings(location, part.node, source)

    def condition(self, location: Location, source: str) -> None:
        try:
            condition = parse_condition(source)
        except ExpressionSyntaxError as exc:
            self.add(location, str(exc))
            return
        self._findings(location, condition.node, source)

    def json(self, location: Location, value: JsonValue) -> None:
        if isinstance(value, str):
            self.template(location, value)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.json((*location, index), item)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.json((*location, key), item)

    def steps(self, location: Location, steps: Sequence[Step], depth: int) -> None:
        if depth > MAX_BRANCH_DEPTH:
            self.add(location, f"routes nest deeper than {MAX_BRANCH_DEPTH} levels")
            return
        for index, step in enumerate(steps):
            self.step((*location, index), step, depth)

    def step(self, at: Location, step: Step, depth: int) -> None:
        if step.id in self.ids:
            self.add((*at, "id"), f"id {step.id!r} is already used at {dotted(self.ids[step.id])}")
        self.ids.setdefault(step.id, at)
        if needs_contact(step) and not self.has_contact:
            self.add(at, f"{step.type} needs the contact: put an upsert_contact step before it")
        if isinstance(step, UpsertContact):
            self.upsert(at, step, depth)
        elif isinstance(step, Route):
            for index, rule in enumerate(step.rules):
                self.condition((*at, "rules", index, "when"), rule.when)
                self.steps((*at, "rules", index, "steps"), rule.steps, depth + 1)
            self.steps((*at, "default"), step.default, depth + 1)
        elif isinstance(step, FilterStep):
            self.condition((*at, "continue_if"), step.continue_if)
            self.template((*at, "reason"), step.reason)
        elif isinstance(step, ContactsOperation):
            self.operation(at, step)
        elif isinstance(step, Webhook):
            self.webhook(at, step)
        elif isinstance(step, SetStage):
            self.stage((*at, "stage"), step.stage)
        else:
            self.texts(at, step)

    def texts(self, at: Location, step: Step) -> None:
        if isinstance(step, AddTags):
            for index, tag in enumerate(step.tags):
                self.template((*at, "tags", index), tag)
        elif isinstance(step, AddTask):
            for name in ("title", "body", "assignee"):
                self.template((*at, name), getattr(step, name))
        elif isinstance(step, AddNote):
            for name in ("body", "title", "user_id"):
                self.template((*at, name), getattr(step, name))
        elif isinstance(step, Enrich):
            for key, text in step.custom_fields.items():
                self.template((*at, "custom_fields", key), text)

    def upsert(self, at: Location, step: UpsertContact, depth: int) -> None:
        if depth > 0:
            self.add(at, "upsert_contact goes at the top level of the flow, not in a route")
        elif self.has_upsert:
            self.add(at, "a flow has one upsert_contact step")
        if not {"email", "phone"} & set(step.fields):
            self.add((*at, "fields"), "map email or phone: the contact is found or made by them")
        for field, text in step.fields.items():
            self.template((*at, "fields", field.value), text)
        for key, text in step.custom_fields.items():
            self.template((*at, "custom_fields", key), text)
        if step.initial_stage is not None:
            self.stage((*at, "initial_stage"), step.initial_stage)
        self.has_contact = self.has_upsert = True

    def stage(self, at: Location, stage: str) -> None:
        stages = self.document.lifecycle.stages
        if stages and stage not in stages:
            self.add(at, f"{stage!r} is not a stage of lifecycle.stages ({', '.join(stages)})")

    def operation(self, at: Location, step: ContactsOperation) -> None:
        operation = OPERATIONS.get(step.operation)
        if operation is None:
            near = difflib.get_close_matches(step.operation, OPERATIONS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            self.add((*at, "operation"), f"{step.operation!r} is not in the Contacts catalog{hint}")
            return
        params = operation.path_params
        for name in step.path:
            if name not in params:
                self.add((*at, "path", name), f"{operation.operation_id} has no path parameter")
        for name in params:
            if name not in step.path and name != "contactId":
                self.add((*at, "path"), f"{operation.operation_id} needs path parameter {name!r}")
        for name in step.query:
            if name not in operation.query:
                allowed = ", ".join(operation.query) or "none"
                self.add((*at, "query", name), f"not a query parameter (allowed: {allowed})")
        if step.body is not None and not operation.has_body:
            self.add((*at, "body"), f"{operation.method} {operation.path} takes no body")
        for kind in ("path", "query"):
            for name, text in getattr(step, kind).items():
                self.template((*at, kind, name), text)
        self.json((*at, "body"), step.body)

    def webhook(self, at: Location, step: Webhook) -> None:
        for name in step.headers:
            if name.lower().startswith(RESERVED_HEADER_PREFIX) or name.lower() == "content-type":
                self.add((*at, "headers", name), "this header is set by leadwire")
        self.json((*at, "body"), step.body)


def check_document(document: FlowDocument) -> list[Problem]:
    """Return the problems of a well-shaped document, in document order."""
    checker = _Checker(document)
    checker.steps(("steps",), document.steps, 0)
    return checker.problems
