"""The built-in templates: the brief's three automations, as flow documents to install and edit.

Each is a YAML file in `templates/` named after the template; `leadwire flows install-template
NAME` creates a draft flow from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from leadwire.engine.flows.document import FlowDocument
from leadwire.engine.flows.errors import FlowNotFoundError
from leadwire.engine.flows.loading import load_flow

_PACKAGE = "leadwire.engine.flows"
_FOLDER = "templates"
_SUFFIX = ".yaml"


@dataclass(frozen=True)
class TemplateInfo:
    """A template's name and what it does."""

    name: str
    title: str
    description: str


def template_names() -> list[str]:
    """Return the names of the built-in templates, sorted."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in folder.iterdir()
        if entry.name.endswith(_SUFFIX)
    )


def template_text(name: str) -> str:
    """Return the YAML of template `name`; FlowNotFoundError naming the templates if unknown."""
    if name not in template_names():
        raise FlowNotFoundError(
            f"there is no template {name!r}; templates: {', '.join(template_names())}"
        )
    return resources.files(_PACKAGE).joinpath(_FOLDER).joinpath(name + _SUFFIX).read_text("utf-8")


def load_template(name: str) -> FlowDocument:
    """Return template `name` as a (validated) flow document."""
    return load_flow(template_text(name))


def list_templates() -> list[TemplateInfo]:
    """Return every template with its title and description."""
    found = []
    for name in template_names():
        document = load_template(name)
        found.append(TemplateInfo(name, document.name, document.description))
    return found
