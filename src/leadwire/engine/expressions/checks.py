"""Checks that need no lead: names, formatters, their arguments, look-up tables, regions, zones.

Run when a flow is saved, so a typo is reported with its position before any lead meets it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

import phonenumbers

from leadwire.engine.expressions.errors import EvaluationError
from leadwire.engine.expressions.filters import FILTERS, zone
from leadwire.engine.expressions.nodes import Filter, Literal, Name, Node, walk

ROOTS = ("answers", "lead", "pinterest", "contact", "const", "now")


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found in an expression, at an offset of its source."""

    position: int
    message: str


def _bound(node: Filter) -> dict[str, Node]:
    spec = FILTERS[node.name]
    return dict(zip(spec.params, node.args, strict=False)) | dict(node.kwargs)


def _filter_findings(node: Filter, tables: Collection[str]) -> Iterator[Finding]:
    spec = FILTERS.get(node.name)
    if spec is None:
        yield Finding(
            node.position,
            f"there is no formatter '{node.name}' (formatters: {', '.join(sorted(FILTERS))})",
        )
        return
    signature = (
        f"'{node.name}' takes ({', '.join(spec.params)})"
        if spec.params
        else (f"'{node.name}' takes no arguments")
    )
    unknown = [key for key, _ in node.kwargs if key not in spec.params]
    if len(node.args) > len(spec.params) or unknown:
        yield Finding(node.position, signature)
        return
    twice = [key for key, _ in node.kwargs if key in spec.params[: len(node.args)]]
    if twice:
        yield Finding(node.position, f"{signature}: '{twice[0]}' is given twice")
        return
    bound = _bound(node)
    missing = [name for name in spec.params[: spec.required] if name not in bound]
    if missing:
        yield Finding(node.position, f"{signature}: '{missing[0]}' is missing")
        return
    yield from _literal_findings(node, bound, tables)


def _literal_findings(
    node: Filter, bound: dict[str, Node], tables: Collection[str]
) -> Iterator[Finding]:
    table = bound.get("table") if node.name == "lookup" else None
    if table is not None:
        name = table.name if isinstance(table, Name) else None
        if isinstance(table, Literal) and isinstance(table.value, str):
            name = table.value
        if name is not None and name not in tables:
            known = ", ".join(sorted(tables)) or "none are defined"
            yield Finding(table.position, f"there is no look-up table '{name}' ({known})")
    region = bound.get("region") if node.name == "e164" else None
    if isinstance(region, Literal) and str(region.value).upper() not in (
        phonenumbers.SUPPORTED_REGIONS
    ):
        yield Finding(region.position, f"{region.value!r} is not a region (a country code)")
    tz = bound.get("tz") if node.name == "date" else None
    if isinstance(tz, Literal):
        try:
            zone(tz.value)
        except EvaluationError as exc:
            yield Finding(tz.position, str(exc))


def check(
    node: Node, *, tables: Collection[str] = (), roots: Collection[str] = ROOTS
) -> list[Finding]:
    """Return the problems of `node` that show without a lead, in source order."""
    findings: list[Finding] = []
    table_args = {
        id(_bound(item).get("table"))
        for item in walk(node)
        if isinstance(item, Filter) and item.name == "lookup" and item.name in FILTERS
    }
    for item in walk(node):
        if isinstance(item, Name) and item.name not in roots and id(item) not in table_args:
            findings.append(
                Finding(
                    item.position, f"there is no name '{item.name}' (names: {', '.join(roots)})"
                )
            )
        elif isinstance(item, Filter):
            findings.extend(_filter_findings(item, tables))
    return sorted(findings, key=lambda finding: finding.position)
