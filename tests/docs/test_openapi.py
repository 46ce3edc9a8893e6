"""The examples of docs/openapi.json validate against the schemas that hold
them (JSON Schema 2020-12, as OpenAPI 3.1 says), so the front end can trust
both. The document itself is generated from the code and held to it and to
template.yaml by tests/openapi.rs."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
BASE = "urn:openapi"


def document():
    return json.loads((REPO / "docs" / "openapi.json").read_text())


def pointer(parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def documented_examples(doc):
    """(where, schema pointer, example) of every example: those of media types
    (request and answer bodies) and those inside schemas."""
    found = []

    def walk(node, path, in_schema):
        if isinstance(node, dict):
            if not in_schema and "schema" in node and "example" in node:
                found.append((pointer(path), pointer(path + ["schema"]), node["example"]))
            if in_schema:
                for key in ("example",):
                    if key in node:
                        found.append((pointer(path), pointer(path), node[key]))
                for i, example in enumerate(node.get("examples") or []):
                    found.append((pointer(path + ["examples", i]), pointer(path), example))
            for key, value in node.items():
                if key in ("example", "examples"):
                    continue
                walk(value, path + [key], in_schema or key == "schema" or path[-1:] == ["schemas"])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + [i], in_schema)

    walk(doc, [], False)
    return found


def validator(doc, schema_pointer):
    registry = Registry().with_resource(
        BASE, Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{BASE}#{schema_pointer}"}, registry=registry)


def test_every_documented_example_is_valid_against_its_schema():
    # Given the document the booking function serves
    doc = document()
    examples = documented_examples(doc)
    # (the walk finds the bodies' examples and the schemas' own)
    assert len(examples) >= 30, f"only {len(examples)} examples found"
    # When each example is validated against the schema that documents it
    invalid = []
    for where, schema_pointer, example in examples:
        errors = [e.message for e in validator(doc, schema_pointer).iter_errors(example)]
        if errors:
            invalid.append(f"{where}: {errors[:3]}")
    # Then none is refused
    assert not invalid, "examples outside their schemas:\n" + "\n".join(invalid)


def test_a_wrong_example_would_be_caught():
    # Guards the test above: the same validation refuses an appointment
    # whose status is not one of the statuses.
    doc = document()
    schema = "/components/schemas/AppointmentView"
    answer = doc["paths"]["/practitioners/{pid}/appointments/{id}"]["get"]["responses"]["200"]
    example = dict(answer["content"]["application/json"]["example"], status="maybe")
    assert list(validator(doc, schema).iter_errors(example))
