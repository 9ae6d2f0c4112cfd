"""MkDocs hooks: the CLI and API references are generated from the code at build time, so they
never drift from it, and pages nobody has put in the nav yet still get a place in it.

- A page holding the line `<!-- openpcf:cli -->` gets the reference of every command of the Typer
  app `openpcf.cli:app` (walked as the click command tree Typer builds), with its usage, help
  and every argument and option.
- A page holding `<!-- openpcf:api -->` gets every path and method of the OpenAPI document of
  `openpcf.api.app.create_app()` with its summary, description, parameters, request body and
  responses, then the schemas. The document itself is published as `openapi.json`.
- `<!-- openpcf:profiles -->` and `<!-- openpcf:rules -->` become tables of the bundled methodology
  profiles and product rules, read from their data files.
- `<!-- openpcf:schema product-model -->` (also `factor`, `result`) becomes the field reference
  of that file format, from the same pydantic model as `openpcf schema ...` prints.
- Markdown pages under docs/ that mkdocs.yml's nav does not list are appended under "More".
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

CLI_MARKER = "<!-- openpcf:cli -->"
API_MARKER = "<!-- openpcf:api -->"
PROFILES_MARKER = "<!-- openpcf:profiles -->"
RULES_MARKER = "<!-- openpcf:rules -->"
SCHEMA_MARKER = re.compile(r"<!-- openpcf:schema (product-model|factor|result) -->")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

_openapi_cache: dict[str, Any] = {}


# --- nav: pages not listed yet ------------------------------------------------------------


def on_config(config: Any) -> Any:
    """Append the Markdown pages the nav leaves out under "More", sorted by path, so a page added
    by a feature's author is reachable before someone places it."""
    nav = config.get("nav")
    if not nav:
        return config
    listed = set(_nav_paths(nav))
    docs = Path(config["docs_dir"])
    extra = sorted(
        p.relative_to(docs).as_posix()
        for p in docs.rglob("*.md")
        if p.relative_to(docs).as_posix() not in listed
        and not any(part.startswith((".", "_")) for part in p.relative_to(docs).parts)
    )
    if extra:
        nav.append({"More": extra})
    return config


def _nav_paths(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_paths(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_paths(value)]
    return []


# --- page generation ----------------------------------------------------------------------


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if API_MARKER in markdown:
        markdown = markdown.replace(API_MARKER, api_reference(openapi_document()))
    if PROFILES_MARKER in markdown:
        markdown = markdown.replace(PROFILES_MARKER, profiles_table())
    if RULES_MARKER in markdown:
        markdown = markdown.replace(RULES_MARKER, rules_table())
    return SCHEMA_MARKER.sub(lambda m: format_reference(m.group(1)), markdown)


def on_files(files: Any, config: Any) -> Any:
    """Publish the OpenAPI document as `openapi.json` at the site's root (pages link to it)."""
    from mkdocs.structure.files import File

    text = json.dumps(openapi_document(), indent=1, ensure_ascii=False)
    files.append(File.generated(config, "openapi.json", content=text))
    return files


# --- CLI ------------------------------------------------------------------------------------


def cli_commands() -> list[tuple[list[str], Any, Any]]:
    """Every command of `openpcf` as (path, command, context), groups before their commands,
    in alphabetical order. Typer may vendor its own click, so the tree is walked by duck typing
    (a group has `commands`)."""
    import typer

    from openpcf.cli import app

    root = typer.main.get_command(app)
    found: list[tuple[list[str], Any, Any]] = []

    def walk(command: Any, path: list[str], parent: Any) -> None:
        ctx = command.context_class(command, info_name=path[-1], parent=parent)
        found.append((path, command, ctx))
        for name in sorted(getattr(command, "commands", {}) or {}):
            sub = command.commands[name]
            if not getattr(sub, "hidden", False):
                walk(sub, [*path, name], ctx)

    walk(root, ["openpcf"], None)
    return found


def command_anchor(path: list[str]) -> str:
    return "-".join(path)


def cli_reference() -> str:
    lines: list[str] = []
    for path, command, ctx in cli_commands():
        name = " ".join(path)
        level = "#" * min(2 + (len(path) > 2), 3)
        lines += [f"{level} `{name}` {{#{command_anchor(path)}}}", ""]
        lines += ["```text", _usage(command, ctx), "```", ""]
        if command.help:
            lines += [_help_text(command.help), ""]
        subcommands = sorted(getattr(command, "commands", {}) or {})
        if subcommands:
            lines += ["| command | what it does |", "|---|---|"]
            for sub in subcommands:
                child = command.commands[sub]
                short = _first_sentence(child.help or "")
                lines.append(
                    f"| [`{name} {sub}`](#{command_anchor([*path, sub])}) | {_cell(short)} |"
                )
            lines.append("")
        params = [p for p in command.params if not getattr(p, "hidden", False)]
        if params:
            lines += ["| argument or option | help |", "|---|---|"]
            for param in params:
                record = param.get_help_record(ctx)
                if record is None:  # an argument: click gives arguments no help record
                    flag = (param.metavar or param.name).upper()
                    required = " [required]" if param.required else ""
                    text = (getattr(param, "help", None) or "") + required
                else:
                    flag, text = record
                lines.append(f"| `{flag}` | {_cell(text)} |")
            lines.append("")
    return "\n".join(lines)


def _usage(command: Any, ctx: Any) -> str:
    usage = command.get_usage(ctx).strip()
    return re.sub(r"\s+", " ", usage)


def _help_text(text: str) -> str:
    # Typer reads \b as "keep this paragraph's line breaks"; Markdown needs plain paragraphs.
    return text.replace("\b", "").strip()


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n\n")[0].replace("\n", " ")
    return first


# --- profiles and product rules ---------------------------------------------------------


def profiles_table() -> str:
    from openpcf.rules.catalogue import profiles

    lines = [
        "| id | name | GWP | gases | boundaries | stages left out | cut-off | allocation "
        "| biogenic CO2 in total | dLUC in total | grid electricity | evidence accepted |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in profiles().values():
        gases = p.gases if isinstance(p.gases, str) else ", ".join(p.gases)
        cutoff = "not set" if p.cutoff is None else f"{p.cutoff:.0%}"
        cells = [
            f"`{p.id}`", f"{p.name} ({p.version})", p.gwp, gases, ", ".join(p.boundaries),
            ", ".join(p.excluded_stages) or "none", cutoff, " → ".join(p.allocation),
            _yes(p.biogenic.in_total), _yes(p.land_use_change.dluc_in_total),
            p.electricity.grid_basis, ", ".join(p.electricity.accepts),
        ]  # fmt: skip
        lines.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def rules_table() -> str:
    from openpcf.rules.catalogue import product_rules

    lines = [
        "| id | name | declared unit | boundary | mandatory stages | cut-off | allocation "
        "| benchmark grades | CBAM CN codes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in product_rules().values():
        unit = f"{r.declared_unit.amount:g} {r.declared_unit.unit}"
        cells = [
            f"`{r.id}`", r.name + (f" {r.name_zh}" if r.name_zh else ""), unit, r.boundary,
            ", ".join(r.mandatory_stages) or "none",
            "not set" if r.cutoff is None else f"{r.cutoff:.0%}",
            r.allocation or "profile's", ", ".join(c.grade for c in r.benchmark_classes) or "none",
            ", ".join(r.cbam.cn_codes) if r.cbam else "",
        ]  # fmt: skip
        lines.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# --- file formats ---------------------------------------------------------------------------


def format_schema(name: str) -> dict[str, Any]:
    """The JSON Schema `openpcf schema NAME` prints."""
    from openpcf.domain.factor import Factor
    from openpcf.domain.model import ProductModel
    from openpcf.domain.result import Result

    if name == "product-model":
        return ProductModel.model_json_schema(by_alias=True)
    return {"factor": Factor, "result": Result}[name].model_json_schema()


def format_reference(name: str) -> str:
    """Every object of a file format with its fields: the top level first, then each definition."""
    schema = format_schema(name)
    prefix = f"{name}-field"
    top = {k: v for k, v in schema.items() if k != "$defs"}
    title = {"product-model": "Model file", "factor": "Factor", "result": "Result"}[name]
    defs = schema.get("$defs", {})
    lines = _schema(title, top, prefix, "####")
    for sub in sorted(defs):
        lines += _schema(sub, defs[sub], prefix, "####")
    return "\n".join(lines)


# --- API ------------------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app `openpcf serve` runs. Building the document touches no
    database; OPENPCF_HOME points at a throwaway folder in case anything looks at it."""
    if "doc" not in _openapi_cache:
        saved = os.environ.get("OPENPCF_HOME")
        with tempfile.TemporaryDirectory() as home:
            os.environ["OPENPCF_HOME"] = home
            try:
                from openpcf.api.app import create_app

                _openapi_cache["doc"] = create_app().openapi()
            finally:
                if saved is None:
                    os.environ.pop("OPENPCF_HOME", None)
                else:
                    os.environ["OPENPCF_HOME"] = saved
    return _openapi_cache["doc"]


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of every operation, in the document's order."""
    return [
        (method.upper(), path, op)
        for path, item in doc.get("paths", {}).items()
        for method, op in item.items()
        if method in METHODS
    ]


def operation_anchor(method: str, path: str) -> str:
    return "op-" + method.lower() + "-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def api_reference(doc: dict[str, Any]) -> str:
    info = doc.get("info", {})
    lines = [
        f"Generated from the OpenAPI {doc.get('openapi', '')} document of {info.get('title', '')} "
        f"{info.get('version', '')} ([`openapi.json`](../openapi.json)); a running server serves "
        "the same document at `/openapi.json` and interactive pages at `/docs` and `/redoc`.",
        "",
        "| method and path | summary |",
        "|---|---|",
    ]
    for method, path, op in operations(doc):
        link = f"[`{method} {path}`](#{operation_anchor(method, path)})"
        lines.append(f"| {link} | {_cell(op.get('summary', ''))} |")
    lines.append("")

    tags = [t["name"] for t in doc.get("tags", [])]
    described = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    for op_tags in (op.get("tags") or ["other"] for _, _, op in operations(doc)):
        for tag in op_tags[:1]:
            if tag not in tags:
                tags.append(tag)
    for tag in tags:
        ops = [
            (m, p, op) for m, p, op in operations(doc) if (op.get("tags") or ["other"])[0] == tag
        ]
        if not ops:
            continue
        lines += [f"## {tag}", ""]
        if described.get(tag):
            lines += [described[tag], ""]
        for method, path, op in ops:
            lines += _operation(method, path, op)

    schemas = doc.get("components", {}).get("schemas", {})
    if schemas:
        lines += ["## Schemas", ""]
        for name in sorted(schemas):
            lines += _schema(name, schemas[name])
    return "\n".join(lines)


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method} {path}` {{#{operation_anchor(method, path)}}}", ""]
    if op.get("summary"):
        lines += [f"**{op['summary']}**", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    if op.get("deprecated"):
        lines += ["*Deprecated.*", ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            desc = p.get("description") or schema.get("description") or ""
            lines.append(
                f"| `{p['name']}` | {p.get('in', '')} | {_cell(_type(schema))} | "
                f"{'yes' if p.get('required') else 'no'} | {_cell(desc)} |"
            )
        lines.append("")
    body = op.get("requestBody")
    if body:
        lines.append("Request body" + (" (required)" if body.get("required") else "") + ":")
        lines.append("")
        for media, content in body.get("content", {}).items():
            lines.append(f"- `{media}`: {_type(content.get('schema', {}))}")
        lines.append("")
    responses = op.get("responses", {})
    if responses:
        lines += ["| response | description | content |", "|---|---|---|"]
        for code, resp in responses.items():
            content = ", ".join(
                f"`{media}` {_type(c.get('schema', {}))}".strip()
                for media, c in (resp.get("content") or {}).items()
            )
            lines.append(f"| {code} | {_cell(resp.get('description', ''))} | {_cell(content)} |")
        lines.append("")
    return lines


def _schema(
    name: str, schema: dict[str, Any], prefix: str = "schema", level: str = "###"
) -> list[str]:
    lines = [f"{level} {name} {{#{prefix}-{_slug(name)}}}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    if "enum" in schema:
        lines += ["One of " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".", ""]
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for field, prop in props.items():
            lines.append(
                f"| `{field}` | {_cell(_type(prop, prefix))} | {'yes' if field in required else 'no'} | "
                f"{_cell(prop.get('description') or '')} |"
            )
        lines.append("")
    elif "enum" not in schema:
        lines += [f"Type: {_type(schema, prefix)}", ""]
    return lines


def _type(schema: dict[str, Any], prefix: str = "schema") -> str:
    """A short human form of a JSON Schema: refs link to their schema section."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{prefix}-{_slug(name)})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = [_type(s, prefix) for s in schema[key]]
            return (" or " if key != "allOf" else " and ").join(parts)
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return " or ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}), prefix)}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return "object" if extra is True else f"object of {_type(extra or {}, prefix)}"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    text = re.sub(r"\s*\n\s*", " ", str(text)).strip()
    return text.replace("|", "\\|")
