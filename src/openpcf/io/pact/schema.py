"""Validation of PACT ProductFootprints (v2.3 and v3.0) against the specification's schemas.

The PACT specification's licence (WBCSD) allows sharing exact copies only, so openpcf ships no
copy or extract of its schemas. They are read at run time from the user's copy of the
specification: the folder named by OPENPCF_PACT_SPEC (holding v2/openapi.yaml and
v3/openapi.yaml), else `shared/specs/pact` beside the source checkout. Without a copy,
documents are produced unvalidated and the caller says so.

`validation_schema` keeps what validation needs from an OpenAPI document: the schema keywords
(types, required properties, enums, patterns, formats, references, combinators, bounds) of
`components.schemas`, the parameter schemas events refer to, and the response bodies of the
footprint endpoints. Formats checked: `uuid` and `date-time` (RFC 3339, by our own check, so the
result does not depend on which optional jsonschema extras are installed).
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT202012

PactVersion = Literal["2", "3"]
PACT_VERSIONS: tuple[PactVersion, ...] = ("3", "2")

#: Keywords of JSON Schema 2020-12 the PACT documents use for validation.
_KEYWORDS = frozenset({
    "$ref", "type", "required", "properties", "items", "enum", "const", "pattern", "format",
    "oneOf", "anyOf", "allOf", "not", "minItems", "maxItems", "uniqueItems", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "additionalProperties",
})  # fmt: skip
_SCHEMA_VALUED = frozenset({"items", "not", "additionalProperties"})
_SCHEMA_LISTS = frozenset({"oneOf", "anyOf", "allOf"})


def _strip(schema: Any) -> Any:
    """A schema with its validation keywords only (recursively)."""
    if not isinstance(schema, dict):
        return schema  # e.g. PACT v3's events put a '$ref' string under 'properties'
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _KEYWORDS:
            continue
        if key == "properties":
            out[key] = {name: _strip(sub) for name, sub in value.items()}
        elif key in _SCHEMA_VALUED:
            out[key] = _strip(value)
        elif key in _SCHEMA_LISTS:
            out[key] = [_strip(sub) for sub in value]
        else:
            out[key] = value
    return out


def _body(operation: dict[str, Any], status: str = "200") -> Any:
    return _strip(operation["responses"][status]["content"]["application/json"]["schema"])


def validation_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The bundled validation schema of one PACT OpenAPI document (parsed YAML)."""
    version = str(openapi["info"]["version"])
    major = version.split(".")[0]
    components = openapi["components"]
    paths = openapi["paths"]
    events = paths[f"/{major}/events"]["post"]["requestBody"]["content"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _base(major),
        "x-extracted-from": {
            "title": openapi["info"]["title"],
            "version": version,
            "file": f"v{major}/openapi.yaml",
        },
        "components": {
            "schemas": {name: _strip(s) for name, s in components["schemas"].items()},
            "parameters": {
                name: {"schema": _strip(p["schema"])}
                for name, p in components.get("parameters", {}).items()
            },
        },
        "$defs": {
            "ListFootprintsResponse": _body(paths[f"/{major}/footprints"]["get"]),
            "GetFootprintResponse": _body(paths[f"/{major}/footprints/{{id}}"]["get"]),
            "Event": _strip(next(iter(events.values()))["schema"]),
        },
    }


def _base(major: str) -> str:
    return f"urn:openpcf:pact-schema:v{major}"


#: The specification versions openpcf implements, written as `specVersion` of its documents.
SPEC_VERSIONS: dict[str, str] = {"3": "3.0.3", "2": "2.3.3"}


class PactSpecMissing(LookupError):
    """No copy of the PACT specification to validate against."""


def spec_folder() -> Path | None:
    """The user's copy of the PACT specification, if there is one."""
    named = os.environ.get("OPENPCF_PACT_SPEC")
    candidates = [Path(named)] if named else []
    candidates.append(Path(__file__).resolve().parents[4].parent / "shared" / "specs" / "pact")
    return next((c for c in candidates if (c / "v3" / "openapi.yaml").is_file()), None)


@lru_cache(maxsize=2)
def spec_schema(version: PactVersion) -> dict[str, Any]:
    folder = spec_folder()
    if folder is None:
        raise PactSpecMissing(
            "no copy of the PACT specification found to validate against: set "
            "OPENPCF_PACT_SPEC to the folder holding v2/openapi.yaml and v3/openapi.yaml"
        )
    openapi = yaml.safe_load((folder / f"v{version}" / "openapi.yaml").read_text("utf-8"))
    return validation_schema(openapi)


def spec_version(version: PactVersion) -> str:
    return SPEC_VERSIONS[version]


#: What a document may be: a schema of `components.schemas` (ProductFootprint, Error, ...) or a
#: body of the API ("ListFootprintsResponse", "GetFootprintResponse", "Event").
Target = str


@lru_cache(maxsize=16)
def _validator(version: PactVersion, target: Target) -> jsonschema.Draft202012Validator:
    schema = spec_schema(version)
    registry = Registry().with_resource(_base(version), DRAFT202012.create_resource(schema))
    where = "$defs" if target in schema["$defs"] else "components/schemas"
    if target not in schema["$defs"] and target not in schema["components"]["schemas"]:
        raise KeyError(f"no schema '{target}' in PACT v{version}")
    return jsonschema.Draft202012Validator(
        {"$ref": f"{_base(version)}#/{where}/{target}"},
        registry=registry,
        format_checker=_FORMATS,
    )


def schema_errors(
    document: Any, version: PactVersion, target: Target = "ProductFootprint"
) -> list[str]:
    """Every breach of the PACT schema in `document`, as 'path: message', sorted by path.

    Raises PactSpecMissing when no copy of the specification is available.
    """
    errors = _validator(version, target).iter_errors(document)
    found = sorted(
        (e.json_path.removeprefix("$").lstrip(".") or "(document)", _short(e)) for e in errors
    )
    return [f"{path}: {msg}" for path, msg in found]


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # The geography rule of CarbonFootprint: at most one of the three geography fields.
        return f"{error.message[:120]} (matches none or several of its alternatives)"
    return error.message if len(error.message) <= 200 else error.message[:197] + "..."


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
    return True


@_FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    uuid.UUID(value)
    return all(value[i] == "-" for i in (8, 13, 18, 23)) and len(value) == 36
