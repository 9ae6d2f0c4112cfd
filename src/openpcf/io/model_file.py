"""Product model files (format 1) and the sub-assemblies they reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from openpcf.domain.errors import Location, ModelError, MultiError
from openpcf.domain.model import (
    Certificate,
    Conversion,
    Coproduct,
    Emission,
    Input,
    Pcf,
    ProductModel,
    Quantity,
)
from openpcf.io.source import Document, Path_, parse_document, read_document, validate
from openpcf.units import co2e_unit_problem, unit_problem

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
        check_units(model, workbook)
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
    check_units(model, doc)
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    return LoadedModel(model, doc, digest)


def check_units(model: ProductModel, doc: Document) -> None:
    """Every unit of the model is one pint's registry knows (its shape was checked by the
    domain): refused when the model is read, not at each calculation after it is stored."""
    problems: list[ModelError] = []

    def walk(value: Any, path: Path_) -> None:
        if isinstance(value, BaseModel):
            for name, info in type(value).model_fields.items():
                key = info.alias or name
                item = getattr(value, name)
                if isinstance(item, str) and (name, type(value)) in _UNIT_FIELDS:
                    check = co2e_unit_problem if isinstance(value, Pcf) else unit_problem
                    if (problem := check(item)) is not None:
                        problems.append(ModelError(problem, doc.where((*path, key))))
                else:
                    walk(item, (*path, key))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, (*path, i))

    walk(model, ())
    if problems:
        raise problems[0] if len(problems) == 1 else MultiError(problems)


_UNIT_FIELDS = {
    (name, cls)
    for cls in (Quantity, Certificate, Input, Emission, Coproduct, Pcf, Conversion)
    for name in ("unit", "from_", "to")
    if name in cls.model_fields
}


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
