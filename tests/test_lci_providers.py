"""The provider policy's rule for an input several processes make, case by case."""

from __future__ import annotations

from openpcf.domain.lci import ProcessInfo
from openpcf.services.lci.providers import choose


def _infos(*rows: tuple[str, str, str | None]) -> list[ProcessInfo]:
    return [
        ProcessInfo(index=i, key=key, process_id=key, product_id="flow", name=name,
                    reference_product="electricity", unit="kWh", location=loc,
                    allocation="none needed")
        for i, (key, name, loc) in enumerate(rows)
    ]  # fmt: skip


def test_same_location_first() -> None:
    infos = _infos(("a", "Electricity mix ; China", "CN"), ("b", "Electricity mix ; Jiangsu",
                   "JS-CN"), ("c", "Coal power", "JS-CN"))  # fmt: skip
    assert choose([0, 1, 2], "CN", infos) == (0, "same location")


def test_nearest_enclosing_location_then_mix() -> None:
    infos = _infos(("a", "Electricity mix ; China", "CN"), ("b", "Electricity mix ; Jiangsu",
                   "JS-CN"), ("c", "Coal power", "JS-CN"))  # fmt: skip
    # Suzhou (SZ-JS-CN) has no producer of its own: Jiangsu's two, of which the mix
    assert choose([0, 1, 2], "SZ-JS-CN", infos) == (1, "a market or mix")


def test_market_then_most_general_then_smallest_key() -> None:
    infos = _infos(("k2", "market for electricity", "RER"), ("k1", "Electricity, at plant", "DE"),
                   ("k3", "market for electricity", "GLO"))  # fmt: skip
    assert choose([0, 1, 2], "US", infos) == (2, "the most general location")
    ties = _infos(("k2", "Truck B", None), ("k1", "Truck A", None))
    assert choose([0, 1], None, ties) == (1, "smallest key among equals (tie-break)")
