"""Append an input to a product model file in place, keeping the rest of the file as it was;
set a model's product.id to the product it is stored in (`adopt_product_id`).

YAML is edited through ruamel.yaml's round-trip loader (comments, order, flow and block styles
and the file's indentation survive): the entry is a value handed to its serializer, never text
pasted into the file, so a partner's string (a PACT productNameCompany with a newline and a
whole `- {name: ...}` after it) stays one string. Comments are single lines with control
characters escaped. JSON, which has no comments, is parsed and written back. The new text is
validated as a product model before it atomically replaces the file (temporary file, rename).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from openpcf.domain.errors import Location, ModelError, OpenpcfError
from openpcf.domain.model import ProductModel
from openpcf.domain.text import printable
from openpcf.io import limits


def _yaml(sequence: int = 4, dash: int = 2) -> YAML:
    """ruamel's round-trip dumper; `sequence` is the column of an item's keys relative to
    its parent key, `dash` that of its '-' ('  - name: x': 4 and 2)."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
    y.allow_unicode = True
    y.indent(mapping=2, sequence=max(sequence, dash + 2), offset=dash)
    return y


def comment_lines(comments: Sequence[str]) -> list[str]:
    """Each comment as one printable line (a newline in partner data becomes '\\n')."""
    return [printable(c) for c in comments]


def input_yaml(entry: Mapping[str, Any], comments: Sequence[str] = (), indent: int = 0) -> str:
    """One `inputs:` item as block YAML ('- name: ...'), preceded by `# comments`, indented."""
    seq = CommentedSeq([_plain(entry)])
    lines = comment_lines(comments)
    if lines:
        seq.yaml_set_comment_before_after_key(0, before="\n".join(lines), indent=0)
    out = io.StringIO()
    _yaml(2, 0).dump(seq, out)
    pad = " " * indent
    return "".join(pad + ln if ln.strip() else ln for ln in out.getvalue().splitlines(True))


def append_input(path: Path, entry: Mapping[str, Any], comments: Sequence[str] = ()) -> None:
    path = Path(path)
    text = limits.read_text(path, ModelError)
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
    data = limits.load_json(text, Location(path), ModelError)
    if not isinstance(data, dict):
        raise ModelError("expected a product model (a mapping)", Location(path, 1))
    if not isinstance(data.setdefault("inputs", []), list):
        raise ModelError("'inputs' is not a list", Location(path))
    data["inputs"].append(dict(entry))
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _append_yaml(text: str, entry: Mapping[str, Any], comments: Sequence[str], path: Path) -> str:
    limits.load_yaml(text, Location(path), ModelError)  # bounded first: ruamel has no bounds
    try:
        _, indent, dash = load_yaml_guess_indent(text)
        y = _yaml(indent or 4, dash if dash is not None else 2)
        root = y.load(text)
    except YAMLError as exc:
        raise ModelError(f"invalid YAML: {exc}", Location(path)) from None
    if not isinstance(root, CommentedMap):
        raise ModelError("expected a product model (a mapping)", Location(path, 1))
    item = _plain(entry)
    lines = comment_lines(comments)
    seq = root.get("inputs")
    if seq is None:
        seq = root["inputs"] = CommentedSeq()
    if not isinstance(seq, CommentedSeq):
        raise ModelError("'inputs' is not a list", Location(path))
    if seq.fa.flow_style():  # inputs: [{...}, {...}]: no room for comments inside
        seq.append(item)
    else:
        moved = _take_trailing(seq)  # blank lines and comments after the old last item
        seq.append(item)
        if lines:
            column = seq.lc.col if seq.lc.col is not None and len(seq) > 1 else 0
            seq.yaml_set_comment_before_after_key(
                len(seq) - 1, before="\n".join(lines), indent=_dash_column(seq, column)
            )
        if moved:
            _put_trailing(seq, moved)
    out = io.StringIO()
    y.dump(root, out)
    return out.getvalue()


def _plain(value: Any) -> Any:
    """Entry values as ruamel's block collections (nested mappings in block style)."""
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[str(k)] = _plain(v)
        return out
    if isinstance(value, list | tuple):
        return CommentedSeq(_plain(v) for v in value)
    return value


def _dash_column(seq: CommentedSeq, fallback: int) -> int:
    """The column of the sequence's dashes, from the first item's recorded position."""
    try:
        first = seq[0]
        if isinstance(first, CommentedMap | CommentedSeq) and first.lc.col is not None:
            return max(first.lc.col - 2, 0)
    except (IndexError, AttributeError):
        pass
    return fallback


def _last_holder(node: Any) -> tuple[Any, Any] | None:
    """(collection, key) whose comment slot ends `node` in block style, else None."""
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        value = node[key]
        if (
            isinstance(value, CommentedMap | CommentedSeq)
            and len(value)
            and not (value.fa.flow_style())
        ):
            node = value
            continue
        return node, key
    return None


def _slot(node: Any) -> int:
    return 2 if isinstance(node, CommentedMap) else 0


def _take_trailing(seq: CommentedSeq) -> str:
    """Cut the comment after the old last item's line: what followed belongs after the new."""
    holder = _last_holder(seq)
    if holder is None:
        return ""
    node, key = holder
    slots = node.ca.items.get(key)
    token = slots[_slot(node)] if slots and len(slots) > _slot(node) else None
    if not isinstance(token, CommentToken):
        return ""
    value = token.value
    end = value.find("\n")
    if end < 0 or end == len(value) - 1:
        return ""
    token.value, rest = value[: end + 1], value[end + 1 :]
    return rest


def _put_trailing(seq: CommentedSeq, text: str) -> None:
    holder = _last_holder(seq)
    if holder is None:
        return
    node, key = holder
    slots = node.ca.items.setdefault(key, [None, None, None, None])
    while len(slots) < 4:
        slots.append(None)
    slots[_slot(node)] = CommentToken("\n" + text, CommentMark(0), None)


def _check(text: str, path: Path) -> None:
    try:
        if path.suffix.lower() == ".json":
            data = limits.load_json(text, Location(path), ModelError)
        else:
            data = limits.load_yaml(text, Location(path), ModelError)[0]
        ProductModel.model_validate(data)
    except (OpenpcfError, ValidationError) as exc:
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
