"""The published OpenAPI document (`GET /openapi.json`) and a page for people (`GET /docs`).

Both are public, like HighLevel's docs, and outside the gate (which guards only /contacts).
The page is rendered on the server from the same document and loads nothing from elsewhere:
the CRM often runs on a machine without internet.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from leadwire.crm.openapi import EXTENSION, operations_of, published_json, published_spec

router = APIRouter(include_in_schema=False)

_templates = Environment(
    loader=PackageLoader("leadwire.crm", "templates"),
    autoescape=select_autoescape(["html"]),
)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def _plain(text: str) -> str:
    """Return a description as text: HighLevel's carry `<br/>` and links, shown as text here."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", text or "")))


_templates.filters["plain"] = _plain


def _base_url(request: Request) -> str:
    configured: str | None = request.app.state.crm.settings.crm_public_url
    return (configured or str(request.base_url)).rstrip("/")


@router.get("/openapi.json")
def get_openapi(request: Request) -> Response:
    """Return the published OpenAPI document, its server being this CRM."""
    return Response(published_json(_base_url(request)), media_type="application/json")


# The browser enforces what the test checks: the page loads nothing, from anywhere.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/docs")
def get_docs(request: Request) -> HTMLResponse:
    """Return the API reference as one self-contained HTML page."""
    return HTMLResponse(render_docs(_base_url(request)), headers=_PAGE_HEADERS)


@dataclass(frozen=True)
class Line:
    """One parameter, property or response line of the page."""

    name: str
    kind: str
    text: str = ""
    link: str | None = None
    is_required: bool = False
    is_ours: bool = False


@dataclass
class Operation:
    """One operation as the page lists it."""

    method: str
    path: str
    op: dict[str, Any]
    anchor: str
    parameters: list[Line] = field(default_factory=list)
    body: list[Line] = field(default_factory=list)
    responses: list[Line] = field(default_factory=list)

    @property
    def is_ours(self) -> bool:
        """Tell whether the whole operation is a leadwire addition."""
        return self.op.get(EXTENSION) is True


@lru_cache(maxsize=8)
def render_docs(base_url: str) -> str:
    """Return the HTML reference of the document published at `base_url`."""
    spec = published_spec(base_url)
    by_tag: dict[str, list[Operation]] = {t["name"]: [] for t in spec["tags"]}
    for method, path, op in operations_of(spec):
        entry = _operation(method, path, op)
        by_tag.setdefault((op.get("tags") or ["Other"])[0], []).append(entry)
    schemas = {name: _properties(schema) for name, schema in spec["components"]["schemas"].items()}
    return _templates.get_template("docs.html").render(
        spec=spec,
        base_url=base_url,
        by_tag={tag: ops for tag, ops in by_tag.items() if ops},
        schemas=schemas,
        ours={n for n, s in spec["components"]["schemas"].items() if s.get(EXTENSION)},
        marker=EXTENSION,
    )


def _operation(method: str, path: str, op: dict[str, Any]) -> Operation:
    entry = Operation(method, path, op, anchor=f"op-{op['operationId']}")
    for p in op.get("parameters", []):
        kind, link = _kind(p.get("schema", {}))
        entry.parameters.append(
            Line(
                p["name"],
                f"{p['in']} · {kind}",
                p.get("description", ""),
                link,
                p.get("required", False),
                p.get(EXTENSION) is True,
            )
        )
    for media, content in op.get("requestBody", {}).get("content", {}).items():
        kind, link = _kind(content.get("schema", {}))
        entry.body.append(Line(media, kind, link=link, is_required=True))
    for status, response in op["responses"].items():
        kind, link = "", None
        for media, content in response.get("content", {}).items():
            kind, link = _kind(content.get("schema", {}))
            kind = f"{media} · {kind}"
        entry.responses.append(
            Line(status, kind, response.get("description", ""), link, False, _is_ours(response))
        )
    return entry


def _properties(schema: dict[str, Any]) -> list[Line]:
    required = set(schema.get("required", []))
    parts = [schema, *schema.get("allOf", [])]
    found: list[Line] = []
    for part in parts:
        if "$ref" in part:
            kind, link = _kind(part)
            found.append(Line("(all of)", kind, link=link))
        for name, prop in part.get("properties", {}).items():
            kind, link = _kind(prop)
            found.append(
                Line(
                    name,
                    kind,
                    prop.get("description", ""),
                    link,
                    name in required,
                    prop.get(EXTENSION) is True,
                )
            )
    return found


def _kind(schema: dict[str, Any]) -> tuple[str, str | None]:
    """Return a short type text for `schema` and the component it links to, if any."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name, f"schema-{name}"
    if "allOf" in schema and len(schema["allOf"]) == 1:
        kind, link = _kind(schema["allOf"][0])
        return (f"{kind} or null" if schema.get("nullable") else kind), link
    if schema.get("type") == "array":
        kind, link = _kind(schema.get("items", {}))
        return f"array of {kind}", link
    kind = schema.get("type", "any")
    if "enum" in schema:
        kind += " (" + " | ".join(str(v) for v in schema["enum"]) + ")"
    if schema.get("nullable"):
        kind += " or null"
    return kind, None


def _is_ours(node: dict[str, Any]) -> bool:
    return node.get(EXTENSION) is True
