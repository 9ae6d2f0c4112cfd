"""National factor sets in an offline installation: a published set pulled from a platform
(`GET /factor-sets/{name}/{version}`) or imported from that document saved as a file, kept under
OPENPCF_HOME/factor-sets/ and named in `openpcf calc --factor-set NAME@VERSION`.

The document's sha256 (of its factors, as the platform computes it) is checked on import, a
draft is refused, and a kept version is never replaced by different content: the label a result
pins names one set of values wherever it was computed.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

from pydantic import ValidationError

from openpcf import config
from openpcf.domain.factor import FactorSet
from openpcf.domain.platform import FactorSetDocument
from openpcf.services.catalogue.factor_sets import digest_of, factor_data
from openpcf.services.errors import Conflict, InvalidRequest, NotFound

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT_S = 30


def store_dir() -> Path:
    return config.home() / "factor-sets"


def import_document(text: str, source: str) -> FactorSet:
    """Keep a published set's document (JSON as the platform serves it); the set it holds."""
    try:
        doc = FactorSetDocument.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidRequest(
            f"{source}: not a factor-set document (GET /factor-sets/NAME/VERSION): field "
            f"'{where}': {first['msg']}"
        ) from None
    if doc.published_at is None:
        raise InvalidRequest(f"{source}: {doc.label} is a draft; only a published set is kept")
    if digest_of(factor_data(doc.factors)) != doc.sha256:
        raise InvalidRequest(
            f"{source}: the factors do not match the document's sha256 {doc.sha256}; the file "
            "was changed or damaged"
        )
    fs = FactorSet(
        id=f"{doc.tenant}:{doc.name}",
        version=doc.version,
        title=doc.title,
        published=doc.published_at.date().isoformat(),
        factors=tuple(doc.factors),
    )
    path = _path(fs.label)
    body = fs.model_dump_json(indent=2, exclude_none=True)
    if path.exists():
        if FactorSet.model_validate_json(path.read_text("utf-8")) != fs:
            raise Conflict(f"{fs.label} is already kept with other values; a version never changes")
        return fs
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(body, "utf-8")
    tmp.replace(path)
    return fs


def pull(url: str, token: str | None = None) -> FactorSet:
    """Fetch a published set's document from a platform and keep it (see `import_document`)."""
    if not re.match(r"^https?://", url):
        raise InvalidRequest(f"'{url}' is not an http(s) URL of GET /factor-sets/NAME/VERSION")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidRequest(f"{url}: {exc}") from None
    if len(body) > MAX_BYTES:
        raise InvalidRequest(f"{url}: the document is larger than {MAX_BYTES} bytes")
    return import_document(body.decode("utf-8", errors="replace"), url)


def kept_sets() -> list[FactorSet]:
    folder = store_dir()
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [FactorSet.model_validate_json(p.read_text("utf-8")) for p in paths]


def kept_set(label: str) -> FactorSet:
    """A kept set by 'name@version' or 'tenant:name@version'."""
    found = [fs for fs in kept_sets() if label in (fs.label, fs.label.partition(":")[2])]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidRequest(
            f"'{label}' names several kept sets: {', '.join(f.label for f in found)}"
        )
    known = ", ".join(f.label for f in kept_sets()) or "none"
    raise NotFound(
        f"no kept factor set '{label}' (kept: {known}); `openpcf factors pull URL` or "
        "`openpcf factors import FILE` first"
    )


def _path(label: str) -> Path:
    return store_dir() / (re.sub(r"[^A-Za-z0-9._@-]", "_", label.replace(":", "__")) + ".json")
