"""Load the bundled profiles (`profiles/*.yaml`) and product rules (`products/*.yaml`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from openpcf import __version__
from openpcf.domain.errors import Location, ModelError
from openpcf.domain.methodology import ProductRule, Profile

T = TypeVar("T", bound=BaseModel)
#: The version label of the rules and profiles openpcf ships (their initial published versions).
BUNDLED = f"bundled@{__version__}"
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
def bundled_profiles() -> dict[str, Profile]:
    """The methodology profiles openpcf ships: the initial published version of each."""
    return _load_all("profiles", Profile)


_PROFILES_IN_FORCE: ContextVar[Mapping[str, Profile] | None] = ContextVar(
    "profiles_in_force", default=None
)


def profiles() -> dict[str, Profile]:
    """The bundled profiles, with published versions in force replacing them where set."""
    override = _PROFILES_IN_FORCE.get()
    return {**bundled_profiles(), **override} if override else bundled_profiles()


@lru_cache(maxsize=1)
def bundled_rules() -> dict[str, ProductRule]:
    """The rules openpcf ships: the initial published version of each."""
    return _load_all("products", ProductRule)


# Rule versions a regulator published that are in force for the calculation under way, by id
# (set by `services.catalogue.rule_versions.in_force`); absent outside one.
_IN_FORCE: ContextVar[Mapping[str, ProductRule] | None] = ContextVar("rules_in_force", default=None)


def product_rules() -> dict[str, ProductRule]:
    """The bundled rules, with published versions in force replacing them where set."""
    override = _IN_FORCE.get()
    return {**bundled_rules(), **override} if override else bundled_rules()


@contextmanager
def rules_in_force(
    rules: Mapping[str, ProductRule], profiles: Mapping[str, Profile] | None = None
) -> Iterator[None]:
    """Compute with these rule and profile versions (by id) in place of the bundled ones, in
    this context."""
    token = _IN_FORCE.set(rules)
    ptoken = _PROFILES_IN_FORCE.set(profiles)
    try:
        yield
    finally:
        _PROFILES_IN_FORCE.reset(ptoken)
        _IN_FORCE.reset(token)


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
