"""The published JSON Schema of flow documents, generated from the models.

`docs/flow.schema.json` is this schema as written by `leadwire flows schema --output ...`; a test
keeps the file equal to what the models generate. The schema checks a document's shape; the
expressions inside it, step ids and step order are checked by `leadwire flows validate`.
"""

from __future__ import annotations

import json
from typing import Any

from leadwire.engine.flows.document import FlowDocument

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://leadwire.invalid/schemas/flow-1.schema.json"


def flow_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (2020-12) of flow documents."""
    schema = FlowDocument.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "leadwire flow",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def flow_json_schema_text() -> str:
    """Return the schema as the stable text written to docs/flow.schema.json."""
    return json.dumps(flow_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
