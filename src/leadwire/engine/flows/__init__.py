"""Flows: versioned documents (one trigger, then steps), their templates, and their store.

Read and check a document with `load_flow` (YAML or JSON; `FlowValidationError` lists every
problem with its place and line); its JSON Schema is `flow_json_schema()`. The built-in templates
are in `library`; drafts and published versions are kept by `store`. `docs/flows.md` describes
the format.
"""

from leadwire.engine.flows.document import DRAFT_VERSION, FlowDocument, FlowVersion, Lifecycle
from leadwire.engine.flows.errors import FlowError, FlowNotFoundError, FlowValidationError, Problem
from leadwire.engine.flows.library import (
    list_templates,
    load_template,
    template_names,
    template_text,
)
from leadwire.engine.flows.loading import dump_flow, load_flow, validate_data
from leadwire.engine.flows.schema import flow_json_schema, flow_json_schema_text

__all__ = [
    "DRAFT_VERSION",
    "FlowDocument",
    "FlowError",
    "FlowNotFoundError",
    "FlowValidationError",
    "FlowVersion",
    "Lifecycle",
    "Problem",
    "dump_flow",
    "flow_json_schema",
    "flow_json_schema_text",
    "list_templates",
    "load_flow",
    "load_template",
    "template_names",
    "template_text",
    "validate_data",
]
