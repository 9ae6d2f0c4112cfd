"""Load the bundled profiles (`profiles/*.yaml`) and product rules (`products/*.yaml`)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from openpcf.domain.errors import Location, ModelError
from openpcf.domain.methodology import ProductRule, Profile

T = TypeVar("T", bound=BaseModel)
_ROOT = files("openpcf.rules")


class RuleDataError(ModelError):
    """A bundled profile or rule file is invalid: a defect of openpcf, caught by its tests."""


def _load_all(folder: str, model: type[T]) -> dict[str, T]:
    out: dict[str, T] = {}
    for entry in sorted(_ROOT.joinpath(folder).iterdir(), key=lambda t: t.name):
        if not entry.name.endswith(".yaml"):
            continue
        item = _load(entry, model)
        if item.id != entry.name.removesuffix(".yaml"):  # type: ignore[attr-defined]
            raise RuleDataError(f"id '{item.id}' differs from the file name", Location(entry.name))  # type: ignore[attr-defined]
        out[item.id] = item  # type: ignore[attr-defined]
    return out


# libyaml's safe loader where PyYAML has it (the same documents, about ten times faster: the
# pure-Python parser was a third of `openpcf calc`'s start with every profile and rule read)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(entry: Traversable, model: type[T]) -> T:
    try:
        return model.model_validate(yaml.load(entry.read_text("utf-8"), Loader=_SAFE_LOADER))
    except (yaml.YAMLError, ValidationError) as exc:
        raise RuleDataError(f"invalid {model.__name__}: {exc}", Location(entry.name)) from None


@lru_cache(maxsize=1)
def profiles() -> dict[str, Profile]:
    return _load_all("profiles", Profile)


@lru_cache(maxsize=1)
def product_rules() -> dict[str, ProductRule]:
    return _load_all("products", ProductRule)


def profile(profile_id: str, where: Location | None = None) -> Profile:
    try:
        return profiles()[profile_id]
    except KeyError:
        known = ", ".join(sorted(profiles()))
        raise ModelError(
            f"unknown profile '{profile_id}'; known profiles: {known}", where
        ) from None


def product_rule(rule_id: str, where: Location | None = None) -> ProductRule:
    try:
        return product_rules()[rule_id]
    except KeyError:
        known = ", ".join(sorted(product_rules()))
        raise ModelError(f"unknown product rule '{rule_id}'; known rules: {known}", where) from None
