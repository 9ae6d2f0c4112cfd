"""Append an input to a product model file in place, keeping the rest of the file as it was;
set a model's product.id to the product it is stored in (`adopt_product_id`).

YAML is edited as text (comments, order and layout survive): the new entry goes after the last
item of the top-level `inputs` sequence, in that sequence's style, or as a new `inputs:` block.
JSON, which has no comments, is parsed and written back. The new text is validated as a product
model before it atomically replaces the file (a temporary file in the same folder, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from openpcf.domain.errors import Location, ModelError
from openpcf.domain.model import ProductModel


def input_yaml(entry: Mapping[str, Any], comments: Sequence[str] = (), indent: int = 0) -> str:
    """One `inputs:` item as block YAML ('- name: ...'), preceded by `# comments`, indented."""
    body = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=100)
    pad = " " * indent
    lines = [f"{pad}# {c}" for c in comments] + [pad + ln for ln in body.splitlines()]
    return "\n".join(lines) + "\n"


def append_input(path: Path, entry: Mapping[str, Any], comments: Sequence[str] = ()) -> None:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the model: {exc}", Location(path)) from None
    if path.suffix.lower() == ".json":
        new = _append_json(text, entry, path)
    else:
        new = _append_yaml(text, entry, comments, path)
    _check(new, path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _append_json(text: str, entry: Mapping[str, Any], path: Path) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"invalid JSON: {exc.msg}", Location(path, exc.lineno)) from None
    if not isinstance(data, dict):
        raise ModelError("expected a product model (a mapping)", Location(path, 1))
    data.setdefault("inputs", []).append(dict(entry))
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _append_yaml(text: str, entry: Mapping[str, Any], comments: Sequence[str], path: Path) -> str:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ModelError(f"invalid YAML: {exc}", Location(path)) from None
    if not isinstance(root, yaml.MappingNode):
        raise ModelError("expected a product model (a mapping)", Location(path, 1))
    seq = next((v for k, v in root.value if k.value == "inputs"), None)
    if seq is None:
        sep = "" if text.endswith("\n") or not text else "\n"
        return text + sep + "inputs:\n" + input_yaml(entry, comments, 2)
    if not isinstance(seq, yaml.SequenceNode):
        raise ModelError("'inputs' is not a list", Location(path, seq.start_mark.line + 1))
    if seq.flow_style:  # inputs: [{...}, {...}]
        flow = json.dumps(dict(entry), ensure_ascii=False)
        close = seq.end_mark.index - 1  # the ']'
        sep = ", " if seq.value else ""
        return text[:close] + sep + flow + text[close:]
    last = seq.value[-1]
    dash = text.rfind("-", 0, last.start_mark.index)
    column = dash - (text.rfind("\n", 0, dash) + 1)
    end = _end_of(last)
    line_end = text.find("\n", end)
    if line_end == -1:
        return text + "\n" + input_yaml(entry, comments, column)
    return text[: line_end + 1] + input_yaml(entry, comments, column) + text[line_end + 1 :]


def _end_of(node: yaml.Node) -> int:
    """Where the text of a node ends, not counting comments or blank lines after it."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _end_of(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _end_of(node.value[-1])
    return node.end_mark.index


def _check(text: str, path: Path) -> None:
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        ProductModel.model_validate(data)
    except (yaml.YAMLError, json.JSONDecodeError, ValidationError) as exc:
        raise ModelError(
            f"the model would not be valid with the new input, so it was left unchanged: {exc}",
            Location(path),
        ) from None


def adopt_product_id(text: str, urn: str, path: Path) -> tuple[str, str | None]:
    """The model text with `product.id` set to `urn`, and the id it replaced (None when it
    stated `urn` or none: nothing to adopt). A file written for another place (the examples
    name `urn:openpcf:product:example:...`) suggests an id; the product it is stored in decides.
    YAML is edited as text, so comments and layout survive; JSON is parsed and written back."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return text, None  # the validation that follows names the error
        product = data.get("product") if isinstance(data, dict) else None
        old = product.get("id") if isinstance(product, dict) else None
        if not isinstance(old, str) or old == urn:
            return text, None
        product["id"] = urn
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n", old
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text, None
    node = _child(_child(root, "product"), "id")
    if not isinstance(node, yaml.ScalarNode) or node.value == urn:
        return text, None
    start, end = node.start_mark.index, node.end_mark.index
    return text[:start] + json.dumps(urn) + text[end:], node.value


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if k.value == key), None)
