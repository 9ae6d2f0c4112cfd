"""A project: one product model, the sub-assemblies it pulls in, and the factors it may use."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpcf.domain.errors import Location, ModelError
from openpcf.domain.factor import FactorSet
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.io.factor_file import load_factor_file
from openpcf.io.model_file import MODEL_SUFFIXES, LoadedModel, load_model, model_ids_in


@dataclass(frozen=True)
class Project:
    models: tuple[LoadedModel, ...]  # the target model first
    links: dict[tuple[int, int], int]  # (model index, input index) -> sub-assembly model index
    catalogue: Catalogue  # bundled set and user factor files; inline factors added per model
    factor_files: tuple[Path, ...]
    input_hash: str

    def catalogue_for(self, index: int) -> Catalogue:
        lm = self.models[index]
        if not lm.model.factors:
            return self.catalogue
        inline = FactorSet(
            id=f"inline:{lm.path.name}",
            version=lm.digest[:12],
            title=f"factors inline in {lm.path}",
            factors=tuple(lm.model.factors),
        )
        where = {f.id: lm.where("factors", i) for i, f in enumerate(lm.model.factors)}
        return self.catalogue.extended(inline, where)


def load_project(
    model_path: Path, factor_files: Sequence[Path] = (), factor_sets: Sequence[FactorSet] = ()
) -> Project:
    """Load a model, every sub-assembly it references (by path or id), and the factor files;
    `factor_sets` are published sets kept in this installation (`openpcf factors pull`)."""
    sets: list[FactorSet] = [bundled_set(), *factor_sets]
    where: dict[str, Location] = {}
    for path in factor_files:
        fs, locations = load_factor_file(Path(path))
        sets.append(fs)
        where.update(locations)
    catalogue = Catalogue.of(sets, where)

    models: list[LoadedModel] = [load_model(Path(model_path))]
    index_of: dict[Path, int] = {models[0].path.resolve(): 0}
    links: dict[tuple[int, int], int] = {}
    i = 0
    while i < len(models):
        lm = models[i]
        for k, line in enumerate(lm.model.inputs):
            if line.product is None:
                continue
            target = _locate(line.product, lm, index_of, models)
            if target not in index_of:
                index_of[target] = len(models)
                models.append(load_model(target))
            links[(i, k)] = index_of[target]
        i += 1

    digest = hashlib.sha256()
    for p in [m.path for m in models] + [Path(f) for f in factor_files]:
        digest.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    for fs in factor_sets:
        digest.update(fs.label.encode() + b"\0" + fs.model_dump_json().encode() + b"\0")
    return Project(
        tuple(models), links, catalogue, tuple(map(Path, factor_files)), digest.hexdigest()
    )


def _locate(
    ref: str, lm: LoadedModel, index_of: dict[Path, int], models: list[LoadedModel]
) -> Path:
    """A sub-assembly reference is a path relative to the model, or the id of a model."""
    for m in models:
        if m.model.product.id == ref:
            return m.path.resolve()
    candidate = (lm.path.parent / ref).resolve()
    if candidate.suffix.lower() in MODEL_SUFFIXES:
        if not candidate.is_file():
            raise ModelError(
                f"sub-assembly file '{ref}' not found (looked for {candidate})", _where_ref(lm, ref)
            )
        return candidate
    ids = model_ids_in(lm.path.parent)
    if ref in ids:
        return ids[ref].resolve()
    known = ", ".join(sorted(ids)) or "none"
    raise ModelError(
        f"sub-assembly '{ref}' is neither a model file nor the product id of a model in "
        f"{lm.path.parent} (ids found there: {known})",
        _where_ref(lm, ref),
    )


def _where_ref(lm: LoadedModel, ref: str) -> Location:
    k = next(k for k, line in enumerate(lm.model.inputs) if line.product == ref)
    return lm.where("inputs", k, "product")


def names_meters(project: Project) -> bool:
    """Whether a direct connection of the project names monitoring meters (its shares then come
    from stored readings, `services/monitoring/direct_connection.py`)."""
    return any(
        inp.electricity.direct_connection.meters is not None
        for lm in project.models
        for inp in lm.model.inputs
        if inp.electricity and inp.electricity.direct_connection
    )
