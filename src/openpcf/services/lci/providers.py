"""Which process supplies an input: the provider policy, instead of silent cut-offs.

For an input (a product consumed, a waste sent to treatment) of process P, in this order:

1. pinned: a row of the `--linking` file for (input flow, P) or (input flow, `*`);
2. default: the provider the data set names, if that process makes the flow;
3. unique: the only process making the flow (a process is not its own provider when another
   makes the flow; when it alone does and takes at least as much as it makes, the input is
   cut off: such a loop leaves nothing to supply and makes I - A singular);
4. chosen, when several make it, by narrowing the candidates step by step (a step that would
   leave none is skipped): the same location as P, else the nearest one containing it (for
   nested codes such as 'SZ-JS-CN': 'JS-CN', then 'CN'); a market or mix (name starting
   "market for"/"market group for" or containing "mix"); the most general location (GLO,
   RoW, a country or region, then nested codes; none stated last); finally the smallest
   process key (a stated, arbitrary tie-break).
   Every choice is listed in the import report with the rule that made it and the others;
5. none makes it: cut off and listed, or the import fails under `--unlinked error`.

A linking file is CSV with columns `input_flow,consumer,provider`: the input flow by UUID or
exact name, the consuming process by key, UUID or exact name (or `*` for every consumer), the
provider by key, UUID or exact name. A row that names nothing in the data is an error with its
line, so a stale file never pins silently to nothing.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from openpcf.domain.errors import ImportFailure, Location
from openpcf.domain.lci import ProcessInfo, SourceData

_MARKET = re.compile(r"^market (group )?for\b|\bmix\b", re.IGNORECASE)
_GLOBAL = {"GLO": 0, "RoW": 1}


def _generality(location: str | None) -> int:
    """Smaller is more general: GLO, RoW, a country or region, then '-' nested codes (JS-CN)."""
    if not location:
        return 9
    return _GLOBAL.get(location, 2 + location.count("-"))


def _enclosing(location: str | None) -> list[str]:
    """'SZ-JS-CN' -> ['SZ-JS-CN', 'JS-CN', 'CN']: the location and those containing it."""
    if not location:
        return []
    parts = location.split("-")
    return ["-".join(parts[i:]) for i in range(len(parts))]


COLUMNS = ("input_flow", "consumer", "provider")


@dataclass(frozen=True)
class Pin:
    line: int
    flow_id: str
    consumer: str | None  # a source process id, None for every consumer
    provider: int  # column index


class Pins:
    """Provider choices from a linking file, looked up by (flow id, consuming process id)."""

    def __init__(self, pins: tuple[Pin, ...] = (), path: str = "") -> None:
        self.path = path
        self._exact = {(p.flow_id, p.consumer): p for p in pins if p.consumer}
        self._any = {p.flow_id: p for p in pins if not p.consumer}
        self.used: set[int] = set()

    def unused(self) -> list[int]:
        lines = {p.line for p in self._exact.values()} | {p.line for p in self._any.values()}
        return sorted(lines - self.used)

    def find(self, flow_id: str, consumer: str) -> Pin | None:
        pin = self._exact.get((flow_id, consumer)) or self._any.get(flow_id)
        if pin is not None:
            self.used.add(pin.line)
        return pin


def read_pins(path: Path, source: SourceData, infos: list[ProcessInfo]) -> Pins:
    """Resolve every row of a linking file against the data; any row that fails is an error."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailure(f"cannot read the linking file: {exc}", Location(path)) from None
    reader = csv.DictReader(text.splitlines())
    if not set(COLUMNS) <= set(reader.fieldnames or ()):
        raise ImportFailure(f"expected columns {','.join(COLUMNS)}; found "
                            f"{','.join(reader.fieldnames or ()) or 'none'}", Location(path, 1))  # fmt: skip
    flows_by_name: dict[str, list[str]] = defaultdict(list)
    for f in source.flows.values():
        if f.kind != "elementary":
            flows_by_name[f.name.strip()].append(f.id)
    processes = {p.id: p.id for p in source.processes}
    processes_by_name: dict[str, list[str]] = defaultdict(list)
    for p in source.processes:
        processes_by_name[p.name.strip()].append(p.id)
    columns: dict[str, list[int]] = defaultdict(list)
    for info in infos:
        for key in (info.key, info.process_id, info.name.strip()):
            columns[key].append(info.index)
    pins = []
    for line, row in enumerate(reader, start=2):
        where = Location(path, line)
        flow, consumer, provider = ((row.get(c) or "").strip() for c in COLUMNS)
        flow_ids = [flow] if flow in source.flows else flows_by_name.get(flow, [])
        if len(flow_ids) != 1:
            raise ImportFailure(f"input_flow {flow!r} names {len(flow_ids)} product or waste "
                                "flows of the data; give its UUID", where)  # fmt: skip
        consumer_id = None
        if consumer != "*":
            found = [consumer] if consumer in processes else processes_by_name.get(consumer, [])
            if len(found) != 1:
                raise ImportFailure(f"consumer {consumer!r} names {len(found)} processes of the "
                                    "data; give its UUID, or * for every consumer", where)  # fmt: skip
            consumer_id = found[0]
        hits = sorted(set(columns.get(provider, [])))
        hits = [k for k in hits if infos[k].product_id == flow_ids[0]] or hits
        if len(hits) != 1 or infos[hits[0]].product_id != flow_ids[0]:
            raise ImportFailure(f"provider {provider!r} names {len(hits)} processes, none of "
                                f"them alone making '{flow}'; give its key", where)  # fmt: skip
        pins.append(Pin(line, flow_ids[0], consumer_id, hits[0]))
    return Pins(tuple(pins), str(path))


def choose(
    candidates: list[int], consumer_location: str | None, infos: list[ProcessInfo]
) -> tuple[int, str]:
    """The provider among several, and the rule that decided (see the module's docstring)."""
    left = sorted(candidates, key=lambda k: infos[k].key)
    for place in _enclosing(consumer_location):
        narrowed = [k for k in left if infos[k].location == place]
        if len(narrowed) == 1:
            rule = "same location" if place == consumer_location else f"nearest location {place}"
            return narrowed[0], rule
        if narrowed:
            left = narrowed
            break
    steps = (
        ("a market or mix", lambda k: bool(_MARKET.search(infos[k].name))),
        ("the most general location",
         lambda k: _generality(infos[k].location)
         == min(_generality(infos[i].location) for i in left)),
    )  # fmt: skip
    for rule, keep in steps:
        narrowed = [k for k in left if keep(k)]
        if len(narrowed) == 1:
            return narrowed[0], rule
        if narrowed:
            left = narrowed
    return left[0], "smallest key among equals (tie-break)"
