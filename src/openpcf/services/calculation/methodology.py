"""Methodology profiles and product rules, as the API lists them."""

from __future__ import annotations

from openpcf.domain.errors import ModelError
from openpcf.domain.methodology import ProductRule, Profile
from openpcf.rules import catalogue
from openpcf.services.errors import NotFound


def list_profiles() -> list[Profile]:
    return list(catalogue.profiles().values())


def get_profile(profile_id: str) -> Profile:
    try:
        return catalogue.profile(profile_id)
    except ModelError as exc:
        raise NotFound(exc.message) from None


def get_rule(rule_id: str) -> ProductRule:
    try:
        return catalogue.product_rule(rule_id)
    except ModelError as exc:
        raise NotFound(exc.message) from None
