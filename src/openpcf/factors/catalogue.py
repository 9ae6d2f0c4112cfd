"""All factors visible to a calculation, from several sets, with duplicate-id protection."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from openpcf.domain.errors import FactorError, Location, MultiError, OpenpcfError
from openpcf.domain.factor import Factor, FactorSet


@dataclass(frozen=True)
class Catalogue:
    """Factors by id. Later sets may replace an earlier set's factor only with `override: true`."""

    sets: tuple[FactorSet, ...]
    by_id: dict[str, Factor] = field(repr=False)
    set_of: dict[str, str] = field(repr=False)

    @classmethod
    def of(cls, sets: Iterable[FactorSet], where: dict[str, Location] | None = None) -> Catalogue:
        """Combine sets in order; `where` locates user factors for error messages."""
        sets = tuple(sets)
        by_id: dict[str, Factor] = {}
        set_of: dict[str, str] = {}
        problems: list[OpenpcfError] = []
        for fs in sets:
            for f in fs.factors:
                if f.id in by_id and not f.override:
                    problems.append(FactorError(
                        f"factor id '{f.id}' from {fs.label} is already defined in "
                        f"{set_of[f.id]}; rename it, or set 'override: true' to replace it",
                        (where or {}).get(f.id),
                    ))  # fmt: skip
                    continue
                by_id[f.id] = f
                set_of[f.id] = fs.label
        if problems:
            raise problems[0] if len(problems) == 1 else MultiError(problems)
        return cls(sets, by_id, set_of)

    def extended(self, more: FactorSet, where: dict[str, Location] | None = None) -> Catalogue:
        return Catalogue.of((*self.sets, more), where)

    def get(self, factor_id: str, where: Location | None = None, what: str = "") -> Factor:
        try:
            return self.by_id[factor_id]
        except KeyError:
            close = difflib.get_close_matches(factor_id, self.by_id, n=5, cutoff=0.6)
            hint = (
                f"; did you mean {', '.join(close)}?"
                if close
                else ("; see `openpcf factors search`")
            )
            raise FactorError(f"{what}unknown factor '{factor_id}'{hint}", where) from None

    def search(self, text: str) -> list[Factor]:
        """Factors whose id, name, region, kind or note contain every word of `text`."""
        words = text.lower().split()
        found = []
        for f in self.by_id.values():
            hay = " ".join(str(x) for x in (f.id, f.name, f.region, f.kind, f.note) if x).lower()
            if all(w in hay for w in words):
                found.append(f)
        return sorted(found, key=lambda f: (not all(w in f.id.lower() for w in words), f.id))

    def in_region(self, region: str) -> list[Factor]:
        region = region.upper()
        return sorted(
            (f for f in self.by_id.values() if (f.region or "").upper() == region),
            key=lambda f: f.id,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(fs.label for fs in self.sets)
