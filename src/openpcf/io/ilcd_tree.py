"""ILCD data sets as plain dicts, whether written as ILCD XML or as TIDAS JSON.

TIDAS (the TianGong LCA platform's format) is ILCD mapped one to one to JSON with the
xmltodict conventions: an element is a key (namespace prefix kept: "common:UUID"), an
attribute "@name", the text of an element with attributes "#text", a repeated element a list.
So ILCD XML is turned into exactly that shape here and one reader serves both formats.

XML is parsed with a parser that resolves no entities, loads no DTD and never touches the
network; a data set that is not well-formed is an `ImportFailure` naming the file and line.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from openpcf.domain.errors import ImportFailure
from openpcf.io.archive import Archive

_SAFE = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
    remove_pis=True,
)  # fmt: skip
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_COMMON = "http://lca.jrc.it/ILCD/Common"

#: The ILCD folders this reader uses and the root element of their data sets.
FOLDERS = {
    "processes": "processDataSet",
    "flows": "flowDataSet",
    "flowproperties": "flowPropertyDataSet",
    "unitgroups": "unitGroupDataSet",
    "lciamethods": "LCIAMethodDataSet",
}


def _key(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        if uri == _COMMON:
            return "common:" + local
        if uri == _XML_NS:
            return "xml:" + local
        return local
    return tag


def element_dict(el: etree._Element) -> Any:
    """An element as xmltodict gives it: text alone, or a dict of '@attributes', children, '#text'."""
    out: dict[str, Any] = {"@" + _key(k): v for k, v in el.attrib.items()}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        key, value = _key(child.tag), element_dict(child)
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    text = (el.text or "").strip()
    if not out:
        return text or None
    if text:
        out["#text"] = text
    return out


def _json_key(key: str) -> str | None:
    """'u:unitGroupDataSet' -> 'unitGroupDataSet'; 'common:' and 'xml:' kept; xmlns dropped."""
    attr = key.startswith("@")
    name = key[1:] if attr else key
    prefix, sep, local = name.partition(":")
    if not sep or prefix in ("common", "xml"):
        return None if name == "xmlns" or name.startswith("xsi:") else key
    if prefix in ("xmlns", "xsi"):
        return None
    return ("@" if attr else "") + local


def _unprefixed(value: Any) -> Any:
    """JSON written with the XML's own prefixes ('u:', 'p:') in xmltodict's default mode."""
    if isinstance(value, list):
        return [_unprefixed(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        key = _json_key(k)
        if key is not None:
            out[key] = _unprefixed(v)
    return out


def read_dataset(archive: Archive, member: str) -> dict[str, Any]:
    """{root key: body} of an ILCD XML file or a TIDAS JSON file."""
    if member.lower().endswith(".json"):
        data = archive.read_object(member)
        for key in ("json_ordered", "json"):  # a TIDAS database row wraps the data set
            if isinstance(data.get(key), dict):
                data = data[key]
        try:
            return _unprefixed(data)
        except RecursionError:
            raise ImportFailure("JSON nested too deeply", archive.where(member)) from None
    try:
        root = etree.fromstring(archive.read(member), _SAFE)
    except etree.XMLSyntaxError as exc:
        raise ImportFailure(f"invalid XML: {exc.msg}", archive.where(member, exc.lineno)) from None
    return {_key(root.tag): element_dict(root)}


def members(archive: Archive, folder: str) -> list[str]:
    """The data sets of one ILCD folder: XML files, or JSON files (TIDAS)."""
    return archive.under(folder, ".xml") + archive.under(folder, ".json")


def is_ilcd(archive: Archive) -> bool:
    """ILCD XML or TIDAS JSON: process data sets in a 'processes' folder."""
    if archive.under("processes", ".xml"):
        return True
    found = archive.under("processes", ".json")
    if not found:
        return False
    head = archive.read(found[0])[:4096]
    return b'"processDataSet"' in head


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    """The text of an element: a string, or the '#text' of a dict; '' when there is none."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("#text")
    return str(value).strip() if value is not None else ""


def langs(value: Any) -> dict[str, str]:
    """A multilingual string: {'en': ..., 'zh': ...} (a text without a language is 'en')."""
    out: dict[str, str] = {}
    for item in as_list(value):
        lang = item.get("@xml:lang", "en") if isinstance(item, dict) else "en"
        t = text(item)
        if t and lang not in out:
            out[lang] = t
    return out


def pick(names: dict[str, str]) -> str:
    """The English name, else the first one given."""
    return names.get("en") or next(iter(names.values()), "")


def get(d: Any, *path: str) -> Any:
    """d[path[0]][path[1]]..., taking the first item of a list on the way; None when absent."""
    for key in path:
        if isinstance(d, list):
            d = d[0] if d else None
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def ref_id(value: Any) -> str | None:
    """The UUID a global reference points to (`@refObjectId`)."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value.get("@refObjectId") if isinstance(value, dict) else None


def classes(value: Any, tag: str) -> str:
    """A classification as a path 'level 0/level 1/...' (classes sorted by their level)."""
    items = []
    for item in as_list(value):
        level = item.get("@level", "0") if isinstance(item, dict) else "0"
        items.append((int(level) if str(level).isdigit() else 0, text(item)))
    return "/".join(t for _, t in sorted(items) if t)


def classification(info: Any) -> str:
    """The first classification (or elementary flow categorisation) of a data set."""
    c = get(info, "classificationInformation")
    for key, tag in (
        ("common:elementaryFlowCategorization", "common:category"),
        ("common:classification", "common:class"),
    ):
        found = get(c, key)
        if found is not None:
            return classes(get(found, tag), tag)
    return ""
