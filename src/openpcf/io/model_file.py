"""Product model files (format 1) and the sub-assemblies they reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from openpcf.domain.errors import Location, ModelError
from openpcf.domain.model import ProductModel
from openpcf.io.source import Document, parse_document, read_document, validate

MODEL_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
WORKBOOK_SUFFIX = ".xlsx"  # an Excel BOM (io/excel_bom.py)


@dataclass(frozen=True)
class LoadedModel:
    """A validated model with the document it came from (for line numbers) and its digest."""

    model: ProductModel
    doc: Document
    digest: str

    @property
    def path(self) -> Path:
        return self.doc.path

    def where(self, *path: str | int) -> Location:
        return self.doc.where(path)


def load_model(path: Path) -> LoadedModel:
    path = Path(path)
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelError(
            f"expected a product model file ending in {', '.join(MODEL_SUFFIXES)}", Location(path)
        )
    if path.suffix.lower() == WORKBOOK_SUFFIX:
        from openpcf.io.excel_bom import read_workbook  # openpyxl only when a workbook is read

        workbook = read_workbook(path)
        model = validate(ProductModel, workbook.data, workbook, ModelError)
        return LoadedModel(model, workbook, hashlib.sha256(path.read_bytes()).hexdigest())
    return _validated(read_document(path, ModelError))


def model_from_text(text: str, path: Path) -> LoadedModel:
    """A model from stored text; `path` names it in errors (its suffix says JSON or YAML)."""
    return _validated(parse_document(text, Path(path), ModelError))


def _validated(doc: Document) -> LoadedModel:
    path = doc.path
    if not isinstance(doc.data, dict):
        raise ModelError(
            "expected a mapping with 'openpcf: 1', 'product' and 'inputs'", Location(path, 1)
        )
    model = validate(ProductModel, doc.data, doc, ModelError)
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    return LoadedModel(model, doc, digest)


def model_ids_in(folder: Path) -> dict[str, Path]:
    """Product ids of the model files in a folder, for sub-assemblies referenced by id."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in MODEL_SUFFIXES or not path.is_file():
            continue
        if path.suffix.lower() == WORKBOOK_SUFFIX:
            from openpcf.io.excel_bom import product_id_in_workbook

            if (product_id := product_id_in_workbook(path)) is not None:
                found.setdefault(product_id, path)
            continue
        try:
            doc = read_document(path, ModelError)
        except ModelError:
            continue  # not ours to judge here; only files that are referenced get validated
        product = doc.data.get("product") if isinstance(doc.data, dict) else None
        if isinstance(product, dict) and isinstance(product.get("id"), str):
            found.setdefault(product["id"], path)
    return found
