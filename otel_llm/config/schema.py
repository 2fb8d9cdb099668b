"""The JSON Schema of the configuration file, from the models (docs/config.schema.json).

``python -m otel_llm.config.schema > docs/config.schema.json`` regenerates the published file;
a test checks that it is current. The schema describes the file after ``${env:...}``
substitution: a number written as ``${env:VAR}`` is a string to an editor using the schema.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from otel_llm.config._models import Config

SCHEMA_ID = "urn:otel-llm:config:1"


def json_schema() -> dict[str, Any]:
    """The configuration's JSON Schema (draft 2020-12)."""
    schema = _same_across_pydantic_versions(Config.model_json_schema(mode="validation"))
    # Destination names are pattern properties; a name that does not match is an error too.
    schema["properties"]["destinations"]["additionalProperties"] = False
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "otel-llm configuration",
        "description": "The otel-llm configuration file, version 1 (docs/configuration.md).",
    }


def _same_across_pydantic_versions(node: Any) -> Any:
    """Pydantic's schema in one spelling whatever its version (>= 2.6): older versions wrap a lone
    ``$ref`` with siblings in ``allOf`` and leave ``type`` out next to a string ``const``; newer ones
    add ``propertyNames`` for non-empty mapping keys, which is left out here."""
    if isinstance(node, list):
        return [_same_across_pydantic_versions(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _same_across_pydantic_versions(value) for key, value in node.items()}
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and set(all_of[0]) == {"$ref"}:
        del node["allOf"]
        node = {"$ref": all_of[0]["$ref"], **node}
    if node.get("propertyNames") == {"minLength": 1}:
        del node["propertyNames"]
    if isinstance(node.get("const"), str):
        node.setdefault("type", "string")
    return node


def main() -> int:
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
