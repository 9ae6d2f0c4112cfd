"""The product rule a command-line calculation runs under (`openpcf calc|check --rule-version`):
the bundled one, or a version a regulator published in the store, as the server computes.

The store (and SQLAlchemy) is imported only when a version is named: `calc` of a model without
one needs no database (tests/test_cli_lazy.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from openpcf.domain.errors import ModelError
from openpcf.rules.catalogue import BUNDLED, bundled_rules, rules_in_force

if TYPE_CHECKING:
    from openpcf.domain.methodology import ProductRule
    from openpcf.services.calculation.project import Project


@dataclass(frozen=True)
class RuleChoice:
    """The product rule a command computed under, and where it came from."""

    rule_id: str | None  # None: the model names no product rule
    version: str | None  # the published version, BUNDLED, or None without a rule
    rule: ProductRule | None = None  # the published document; None: the bundled one
    valid_from: date | None = None
    withdrawn_on: date | None = None

    @property
    def line(self) -> str:
        """One line for the output (plain text), saying which rule and version were used."""
        if self.rule_id is None:
            return "product rule: none named (general rules)"
        if self.version is None:
            return f"product rule {self.rule_id}: unknown; computed under the general rules"
        if self.rule is None:
            return f"product rule {self.rule_id} · {self.version} (bundled with openpcf)"
        when = f"in force from {self.valid_from}" + (
            f", withdrawn on {self.withdrawn_on}" if self.withdrawn_on else ""
        )
        return (f"product rule {self.rule_id} · version {self.version} "
                f"(published in the store, {when})")  # fmt: skip

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule_id,
            "rule_version": self.version,
            "source": "none" if self.version is None else "bundled" if self.rule is None
            else "store",
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "withdrawn_on": self.withdrawn_on.isoformat() if self.withdrawn_on else None,
        }  # fmt: skip

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Compute in this context under the chosen version (the bundled rules: no change)."""
        if self.rule is None or self.rule_id is None:
            yield
            return
        with rules_in_force({self.rule_id: self.rule}):
            yield


def choose(project: Project, version: str | None) -> RuleChoice:
    """The model's product rule: the bundled one without `version`, else the published
    version from the store ('latest': the one in force today, as the server computes)."""
    rule_id = project.models[0].model.product.rule
    if version is None:
        if rule_id is None or rule_id not in bundled_rules():
            return RuleChoice(rule_id, None)  # the general rules; an unknown rule is listed
        return RuleChoice(rule_id, BUNDLED)
    if not rule_id:
        raise ModelError(
            f"--rule-version {version}: the model names no product rule (product.rule); "
            "a rule version applies to a product rule", project.models[0].where("product")
        )  # fmt: skip
    from openpcf.domain.methodology import ProductRule
    from openpcf.services.catalogue.rule_versions import published_rule
    from openpcf.store.db import sessions

    info = published_rule(sessions()(), rule_id, version, date.today())
    return RuleChoice(rule_id, info.version, ProductRule.model_validate(info.document),
                      info.valid_from, info.withdrawn_on)  # fmt: skip
