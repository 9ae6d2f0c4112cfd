"""Link a background database's processes into technosphere and biosphere matrices.

Input: `SourceData` from any reader. Output: A (what each column takes of every other column
per unit of its reference) and B (signed elementary flows per unit of reference, one row per
source flow), plus an import report that puts every exchange in exactly one category.

- Columns. A process gives one column for its reference product; a multi-output process with
  allocation factors of its default method gives one column per product, each exchange scaled
  by the product's factor (physical, economic) or by the (product, exchange) factor (causal).
- Signs. An exchange's amount is what the process produces (inputs negative). A column whose
  reference is consumed (a waste treatment) has orientation σ = -1, so a waste output (+) and
  a treatment (-) link with a positive entry: A[k, j] = -σ_k · amount / |reference of j|.
- Providers. An exchange to link goes to the provider `services/lci/providers.py` picks: the
  one a linking file pins, the data's default provider, the only producer, or one of several
  by a stated rule (every such choice is listed with its alternatives); an input nothing makes
  is cut off and listed, or fails the import under `unlinked="error"`. Each column records how
  many of its own inputs were cut off.
- Omitted exchanges (a flow data set missing from the release, no amount, a process with no
  reference flow) are counted in their own categories and listed; they enter no matrix.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from openpcf.domain.errors import ImportFailure, Location
from openpcf.domain.lci import (
    CATEGORIES,
    COPRODUCT_ALLOCATED,
    COPRODUCT_UNALLOCATED,
    COPRODUCT_ZERO,
    CUT_OFF,
    GHG,
    GHG_UNMAPPED,
    LINKED_CHOSEN,
    LINKED_DEFAULT,
    LINKED_PINNED,
    LINKED_UNIQUE,
    LOOP_CUT,
    OTHER_ELEMENTARY,
    REFERENCE,
    REFERENCE_TREATMENT,
    SELF_INPUT,
    UNLINKED,
    ElementaryFlowInfo,
    ImportReport,
    ProcessInfo,
    ReportEntry,
    SourceData,
    SourceExchange,
    SourceProcess,
    UncertainEntries,
)
from openpcf.io.ghg_flow_map import GhgFlowMap, looks_like_ghg
from openpcf.io.lci_units import conversion, is_mass
from openpcf.services.lci.loops import Loop, unproductive_loops
from openpcf.services.lci.providers import Pins, choose

Progress = Callable[[int, int], None]
_EXAMPLES = 5


@dataclass(frozen=True)
class LinkedDatabase:
    processes: tuple[ProcessInfo, ...]
    flows: tuple[ElementaryFlowInfo, ...]
    technosphere: sp.csc_matrix  # A, columns × columns
    biosphere: sp.csc_matrix  # B, elementary flows × columns
    report: ImportReport
    # exchanges with a distribution, one entry per contribution to A or B
    technosphere_uncertainty: UncertainEntries = field(default_factory=UncertainEntries.empty)
    biosphere_uncertainty: UncertainEntries = field(default_factory=UncertainEntries.empty)


@dataclass(frozen=True)
class _Column:
    process: SourceProcess
    function: SourceExchange  # its reference: the process's, or one of its coproducts
    share: Callable[[SourceExchange], float]  # allocation factor of an exchange in this column
    allocation: str


class _Uncertain:
    """Entries with a distribution, collected as A or B is built."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.values: list[float] = []
        self.params: list[tuple[int, float, float, float]] = []

    def add(self, e: SourceExchange, row: int, col: int, value: float) -> None:
        if e.uncertainty is not None and value != 0:
            self.rows.append(row)
            self.cols.append(col)
            self.values.append(value)
            self.params.append(e.uncertainty)

    def entries(self) -> UncertainEntries:
        if not self.rows:
            return UncertainEntries.empty()
        p = np.asarray(self.params, dtype=np.float64).reshape(-1, 4)
        return UncertainEntries(
            np.asarray(self.rows, np.int64), np.asarray(self.cols, np.int64),
            np.asarray(self.values, np.float64), p[:, 0].astype(np.int64),
            p[:, 1].copy(), p[:, 2].copy(), p[:, 3].copy(),
        )  # fmt: skip


class _Tally:
    """Exchanges per category, and the flows or processes the report lists, grouped by id."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lists: dict[str, dict[str, dict]] = defaultdict(dict)
        self.notes: list[str] = []

    def listed(self, kind: str, key: str, what: str, detail: str, process: str) -> None:
        entry = self.lists[kind].setdefault(
            key, {"what": what, "id": key, "exchanges": 0, "detail": detail, "processes": []}
        )
        entry["exchanges"] += 1
        if len(entry["processes"]) < _EXAMPLES and process not in entry["processes"]:
            entry["processes"].append(process)

    def entries(self, kind: str) -> tuple[ReportEntry, ...]:
        items = sorted(self.lists[kind].values(), key=lambda e: (-e["exchanges"], e["what"]))
        return tuple(ReportEntry(**(e | {"processes": tuple(e["processes"])})) for e in items)


@dataclass
class _Linker:
    """Provider lookup for one import: the columns making each flow and the policy's inputs."""

    by_flow: dict[str, list[int]]
    by_pair: dict[tuple[str, str], int]
    infos: list[ProcessInfo]
    source: SourceData
    tally: _Tally
    pins: Pins
    unlinked: str
    made: list[float]  # per column: |amount| of its reference (or coproduct) it makes
    last: str = ""  # the category of the last exchange linked
    cut_off: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def link_database(
    source: SourceData,
    ghg: GhgFlowMap,
    progress: Progress | None = None,
    pins: Pins | None = None,
    unlinked: str = "cut-off",
    pins_from: Callable[[list[ProcessInfo]], Pins] | None = None,
) -> LinkedDatabase:
    """A, B and the report; `pins_from` reads a linking file once the columns are known."""
    if unlinked not in ("cut-off", "error"):
        raise ImportFailure(f"--unlinked {unlinked!r}: expected cut-off or error")
    tally = _Tally()
    tally.notes.extend(source.notes)
    columns: list[_Column] = []
    columns_of: list[list[int]] = []
    for p in source.processes:
        own = _columns_of(p, tally)
        columns_of.append(list(range(len(columns), len(columns) + len(own))))
        columns.extend(own)
    infos = _process_infos(columns, source)
    by_flow: dict[str, list[int]] = defaultdict(list)
    by_pair: dict[tuple[str, str], int] = {}
    for j, col in enumerate(columns):
        by_flow[col.function.flow_id].append(j)
        by_pair[(col.process.id, col.function.flow_id)] = j
    if pins_from is not None:
        pins = pins_from(infos)
    made = [abs(c.function.amount) for c in columns]
    linker = _Linker(by_flow, by_pair, infos, source, tally, pins or Pins(), unlinked, made)
    sigma = np.array([1.0 if c.function.amount > 0 else -1.0 for c in columns])
    scale = np.array([1.0 / abs(c.function.amount) for c in columns])

    flows: dict[str, ElementaryFlowInfo] = {}
    flow_status: dict[str, tuple[str, str]] = {}  # flow id -> (category, detail)
    a_rows: list[int] = []
    a_cols: list[int] = []
    a_vals: list[float] = []
    b_rows: list[int] = []
    b_cols: list[int] = []
    b_vals: list[float] = []
    a_unc, b_unc = _Uncertain(), _Uncertain()
    unusable: list[str] = []
    link_log: list[tuple[str, int, list[int], str]] = []
    total = 0
    for i, (p, mine) in enumerate(zip(source.processes, columns_of, strict=True)):
        functions = {id(columns[j].function) for j in mine}
        for e in p.exchanges:
            total += 1
            if e.uncertainty_problem and e.role in ("link", "elementary"):
                unusable.append(f"{e.label}: {e.uncertainty_problem}")
            if e.role == "reference":
                tally.counts[REFERENCE if e.amount > 0 else REFERENCE_TREATMENT] += 1
            elif e.role == "function":
                _count_function(e, p, functions, source, tally)
            elif e.role == "omitted":
                category = e.omitted or "omitted"
                tally.counts[category] += 1
                what = e.label.rpartition(" '")[2].rstrip("'") or e.flow_id
                tally.listed("omitted", f"{category}: {e.flow_id}", what, category, p.name)
            elif e.role == "cut-off":
                tally.counts[CUT_OFF] += 1
                flow = source.flows[e.flow_id]
                tally.listed("cut_off", e.flow_id, flow.name, flow.unit, p.name)
            elif e.role == "link":
                k = _provider(e, p, linker)
                if k is None:
                    continue
                link_log.append((linker.last, k, mine, p.id))
                for j in mine:
                    share = columns[j].share(e)
                    if share:
                        a_rows.append(k)
                        a_cols.append(j)
                        a_vals.append(-sigma[k] * e.amount * share * scale[j])
                        a_unc.add(e, k, j, a_vals[-1])
            else:
                row = _elementary_row(e.flow_id, flows, flow_status, source, ghg)
                category, detail = flow_status[e.flow_id]
                tally.counts[category] += 1
                if category == GHG_UNMAPPED:
                    flow = source.flows[e.flow_id]
                    tally.listed("unmapped_ghg", e.flow_id, flow.name, detail, p.name)
                for j in mine:
                    share = columns[j].share(e)
                    if share:
                        b_rows.append(row)
                        b_cols.append(j)
                        b_vals.append(e.amount * share * scale[j])
                        b_unc.add(e, row, j, b_vals[-1])
        if progress is not None:
            progress(i + 1, len(source.processes))

    n = len(columns)
    if unlinked == "error" and tally.lists["unlinked"]:
        entries = tally.entries("unlinked")
        shown = "; ".join(f"'{x.what}' ({x.id}, {x.exchanges} inputs)" for x in entries[:20])
        more = f"; and {len(entries) - 20} more" if len(entries) > 20 else ""
        raise ImportFailure(f"{len(entries)} input flows have no producer in the data "
                            f"(--unlinked error): {shown}{more}")  # fmt: skip
    if linker.pins.path:
        unused = linker.pins.unused()
        if unused:
            tally.notes.append(f"linking file {linker.pins.path}: rows on lines "
                               f"{', '.join(map(str, unused))} matched no input")  # fmt: skip
    a = _sparse(a_rows, a_cols, a_vals, (n, n))
    loops, label = unproductive_loops(a)
    if loops:
        a, a_unc = _cut_loops(loops, label, a_rows, a_cols, a_vals, a_unc, link_log, infos, tally,
                              linker.cut_off)  # fmt: skip
    infos = [i.model_copy(update={"cut_off_inputs": linker.cut_off.get(i.process_id, 0)})
             if linker.cut_off.get(i.process_id) else i for i in infos]  # fmt: skip
    b = _sparse(b_rows, b_cols, b_vals, (len(flows), n))
    a_entries, b_entries = a_unc.entries(), b_unc.entries()
    if a_entries.size or b_entries.size or unusable:
        tally.notes.append(f"uncertainty distributions kept on {a_entries.size} technosphere and "
                           f"{b_entries.size} biosphere entries")  # fmt: skip
    if unusable:
        shown = "; ".join(unusable[:_EXAMPLES])
        more = f"; and {len(unusable) - _EXAMPLES} more" if len(unusable) > _EXAMPLES else ""
        tally.notes.append(f"{len(unusable)} exchanges have a distribution that cannot be used "
                           f"and are taken as certain: {shown}{more}")  # fmt: skip
    linked = sum(tally.counts[c] for c in (LINKED_PINNED, LINKED_DEFAULT, LINKED_UNIQUE,
                                           LINKED_CHOSEN))  # fmt: skip
    to_link = linked + sum(tally.counts[c] for c in (UNLINKED, SELF_INPUT, LOOP_CUT))
    counts = {c: tally.counts[c] for c in CATEGORIES if tally.counts[c]}
    if sum(counts.values()) != total:  # every exchange in exactly one category
        raise AssertionError(f"import report counts {sum(counts.values())} of {total} exchanges")
    report = ImportReport(
        format=source.format,
        files=source.files,
        processes=len(source.processes),
        columns=n,
        elementary_flows=len(flows),
        exchanges=total,
        counts=counts,
        ambiguous=tally.entries("ambiguous"),
        unlinked=tally.entries("unlinked"),
        cut_off=tally.entries("cut_off"),
        unmapped_ghg=tally.entries("unmapped_ghg"),
        unallocated=tally.entries("unallocated"),
        omitted=tally.entries("omitted"),
        inputs_linked=linked,
        inputs_to_link=to_link,
        choices=tally.entries("choices"),
        loops=tally.entries("loops"),
        notes=tuple(dict.fromkeys(tally.notes)),
    )
    return LinkedDatabase(tuple(infos), tuple(flows.values()), a, b, report, a_entries, b_entries)


def _cut_loops(
    loops: list[Loop],
    label: np.ndarray,
    rows: list[int],
    cols: list[int],
    vals: list[float],
    unc: _Uncertain,
    link_log: list[tuple[str, int, list[int], str]],
    infos: list[ProcessInfo],
    tally: _Tally,
    cut_off: dict[str, int],
) -> tuple[sp.csc_matrix, _Uncertain]:
    """Drop the links inside each unproductive loop; count and list what was cut."""
    bad = np.zeros(label.max() + 1, dtype=bool)
    first: dict[int, int] = {}  # block label -> its first column (names the report entry)
    for loop in loops:
        bad[label[loop.columns[0]]] = True
        first[int(label[loop.columns[0]])] = int(loop.columns[0])
        names = sorted({infos[j].name for j in loop.columns})
        shown = "; ".join(names[:_EXAMPLES]) + (f"; and {len(names) - _EXAMPLES} more"
                                                if len(names) > _EXAMPLES else "")  # fmt: skip
        tally.lists["loops"][f"loop {infos[loop.columns[0]].key}"] = {
            "what": names[0], "id": infos[loop.columns[0]].key, "exchanges": 0,
            "detail": f"{len(loop.columns)} processes taking more than they make (spectral "
                      f"radius {loop.radius:.6g}): {shown}",
            "processes": names[:_EXAMPLES],
        }  # fmt: skip

    def inside(k: int, j: int) -> bool:
        return bool(bad[label[k]] and label[k] == label[j])

    for category, k, mine, process_id in link_log:
        if any(inside(k, j) for j in mine):
            cut_off[process_id] += 1
            tally.counts[category] -= 1
            tally.counts[LOOP_CUT] += 1
            key = f"loop {infos[first[int(label[k])]].key}"
            tally.lists["loops"][key]["exchanges"] += 1
    keep = [i for i, (k, j) in enumerate(zip(rows, cols, strict=True)) if not inside(k, j)]
    n = len(label)
    a = _sparse([rows[i] for i in keep], [cols[i] for i in keep], [vals[i] for i in keep], (n, n))
    kept = _Uncertain()
    for i, (k, j) in enumerate(zip(unc.rows, unc.cols, strict=True)):
        if not inside(k, j):
            kept.rows.append(k)
            kept.cols.append(j)
            kept.values.append(unc.values[i])
            kept.params.append(unc.params[i])
    return a, kept


def _sparse(rows: list[int], cols: list[int], vals: list[float], shape: tuple[int, int]):
    m = sp.csc_matrix(
        (np.asarray(vals, dtype=np.float64), (np.asarray(rows, dtype=np.int64),
                                              np.asarray(cols, dtype=np.int64))),
        shape=shape,
    )  # fmt: skip
    m.sum_duplicates()
    m.eliminate_zeros()
    return m


def _columns_of(p: SourceProcess, tally: _Tally) -> list[_Column]:
    refs = [e for e in p.exchanges if e.role == "reference"]
    where = Location(p.file)
    if not refs and all(e.role == "omitted" for e in p.exchanges):
        tally.listed("omitted", f"process {p.id}", p.name, "no quantitative reference: no "
                     f"column; its {len(p.exchanges)} exchanges are left out", p.name)  # fmt: skip
        tally.lists["omitted"][f"process {p.id}"]["exchanges"] = len(p.exchanges)
        return []
    if len(refs) != 1:
        raise ImportFailure(f"process '{p.name}' ({p.id}) has {len(refs)} quantitative "
                            "references; expected exactly one", where)  # fmt: skip
    ref = refs[0]
    if ref.amount == 0:
        raise ImportFailure(f"{ref.label}: the quantitative reference has amount 0", where)
    functions = [e for e in p.exchanges if e.role == "function" and e.amount != 0]
    if not functions:
        return [_Column(p, ref, lambda e: 1.0, "none needed")]
    products = [ref, *functions]
    what = f"process '{p.name}' ({p.id})"
    method = p.allocation_method
    if method in ("physical", "economic") and any(e.flow_id in p.allocation for e in products):
        missing = [e.label for e in products if e.flow_id not in p.allocation]
        if missing:
            tally.notes.append(f"{what}: no {method} allocation factor for "
                               f"{'; '.join(missing)}; taken as 0")  # fmt: skip
        shares = [p.allocation.get(e.flow_id, 0.0) for e in products]
        if abs(sum(shares) - 1.0) > 1e-6:
            tally.notes.append(f"{what}: the {method} allocation factors add up to "
                               f"{sum(shares):.6g}, not 1")  # fmt: skip
        return [
            _Column(p, e, lambda _, s=s: s, f"{method}, factor {s:.6g}")
            for e, s in zip(products, shares, strict=True)
        ]
    if method == "causal" and p.allocation:
        cols = []
        for e in products:
            cols.append(_Column(p, e, _causal_share(p, e.flow_id), "causal"))
        inputs = [x for x in p.exchanges if x.role in ("link", "elementary")]
        lacking = [x.label for x in inputs for e in products
                   if (e.flow_id, x.internal_id) not in p.allocation]  # fmt: skip
        if lacking:
            tally.notes.append(f"{what}: {len(lacking)} (product, exchange) pairs have no causal "
                               "allocation factor; taken as 0")  # fmt: skip
        return cols
    if method:
        tally.notes.append(f"{what} states {method} allocation but gives no factors for it; "
                           "its coproducts are not allocated")  # fmt: skip
    return [_Column(p, ref, lambda e: 1.0, "coproducts not allocated")]


def _causal_share(p: SourceProcess, product: str) -> Callable[[SourceExchange], float]:
    def share(x: SourceExchange) -> float:
        return p.allocation.get((product, x.internal_id), 0.0)  # type: ignore[arg-type]

    return share


def _count_function(
    e: SourceExchange, p: SourceProcess, columns: set[int], source: SourceData, tally: _Tally
) -> None:
    if id(e) in columns:
        tally.counts[COPRODUCT_ALLOCATED] += 1
    elif e.amount == 0:
        tally.counts[COPRODUCT_ZERO] += 1
    else:
        tally.counts[COPRODUCT_UNALLOCATED] += 1
        flow = source.flows[e.flow_id]
        tally.listed("unallocated", p.id, p.name,
                     f"coproduct '{flow.name}' ({abs(e.amount):g} {flow.unit}) carries no burden",
                     p.name)  # fmt: skip


def _provider(e: SourceExchange, p: SourceProcess, linker: _Linker) -> int | None:
    """The column that supplies (or treats) this exchange, or None when it is cut off."""
    tally, infos = linker.tally, linker.infos
    pin = linker.pins.find(e.flow_id, p.id)
    if pin is not None:
        tally.counts[LINKED_PINNED] += 1
        linker.last = LINKED_PINNED
        return pin.provider
    if e.default_provider:
        k = linker.by_pair.get((e.default_provider, e.flow_id))
        if k is not None:
            tally.counts[LINKED_DEFAULT] += 1
            linker.last = LINKED_DEFAULT
            return k
        tally.notes.append(
            "some exchanges name a default provider that is not in the data or does not "
            "make the flow; they were linked as if none was named"
        )
    candidates = linker.by_flow.get(e.flow_id, [])
    flow = linker.source.flows[e.flow_id]
    own = [k for k in candidates if infos[k].process_id == p.id]
    if own and len(own) < len(candidates):
        candidates = [k for k in candidates if k not in own]  # others make it: not itself
    elif own and abs(e.amount) >= linker.made[own[0]]:
        # taking as much of its own product as it makes: no supply is left (I - A singular)
        tally.counts[SELF_INPUT] += 1
        linker.cut_off[p.id] += 1
        tally.listed("unlinked", e.flow_id, flow.name,
                     f"{flow.unit}; its only producer is the consuming process, which takes "
                     f"{abs(e.amount):g} and makes {linker.made[own[0]]:g}", p.name)  # fmt: skip
        return None
    if len(candidates) == 1:
        tally.counts[LINKED_UNIQUE] += 1
        linker.last = LINKED_UNIQUE
        return candidates[0]
    if candidates:
        k, rule = choose(candidates, p.location, infos)
        tally.counts[LINKED_CHOSEN] += 1
        linker.last = LINKED_CHOSEN
        others = [i for i in candidates if i != k]
        key = f"{e.flow_id} -> {infos[k].key} ({rule})"
        detail = ""
        if key not in tally.lists["choices"]:  # every alternative, once per (flow, choice)
            shown = "; ".join(f"{infos[i].key} ({infos[i].name}, {infos[i].location or '-'})"
                              for i in others)  # fmt: skip
            detail = (f"chose {infos[k].key} ({infos[k].name}, {infos[k].location or '-'}) by "
                      f"rule: {rule}; alternatives: {shown}")  # fmt: skip
        tally.listed("choices", key, flow.name, detail, p.name)
        return k
    tally.counts[UNLINKED] += 1
    linker.cut_off[p.id] += 1
    tally.listed("unlinked", e.flow_id, flow.name, flow.unit, p.name)
    return None


def _elementary_row(
    flow_id: str,
    flows: dict[str, ElementaryFlowInfo],
    status: dict[str, tuple[str, str]],
    source: SourceData,
    ghg: GhgFlowMap,
) -> int:
    known = flows.get(flow_id)
    if known is not None:
        return known.index
    flow = source.flows[flow_id]
    row = ghg.match(flow.name, flow.category, flow.cas, flow.id)
    gas = origin = None
    kg = None
    if row is not None and is_mass(flow.unit):
        gas, origin = row.flow.gas, row.flow.origin
        kg = row.factor * conversion(flow.unit, "kg", f"elementary flow '{flow.name}'")
        table = "ghg_flow_uuids.csv" if row.convention.startswith("UUID") else "ghg_flow_map.csv"
        status[flow_id] = (GHG, f"{gas} ({origin}), {table} line {row.line}")
    elif row is not None:
        status[flow_id] = (GHG_UNMAPPED, f"named like {row.flow.label()} but its unit "
                                         f"'{flow.unit}' is not a mass")  # fmt: skip
    elif looks_like_ghg(flow.name, flow.category):
        status[flow_id] = (GHG_UNMAPPED, f"category '{flow.category}', CAS {flow.cas or '-'}")
    else:
        status[flow_id] = (OTHER_ELEMENTARY, "")
    info = ElementaryFlowInfo(
        index=len(flows), id=flow.id, name=flow.name, category=flow.category, cas=flow.cas,
        unit=flow.unit, gas=gas, origin=origin, kg_per_unit=kg, names=flow.names,
    )  # fmt: skip
    flows[flow_id] = info
    return info.index


def _process_infos(columns: list[_Column], source: SourceData) -> list[ProcessInfo]:
    """Column metadata; a key is the process id, or id/product id where the id is shared."""
    per_process = Counter(c.process.id for c in columns)
    seen: dict[str, str] = {}
    infos = []
    for j, c in enumerate(columns):
        flow = source.flows[c.function.flow_id]
        key = c.process.id if per_process[c.process.id] == 1 else f"{c.process.id}/{flow.id}"
        if key in seen:
            raise ImportFailure(
                f"process {c.process.id} with product '{flow.name}' appears twice (also in "
                f"{seen[key]})",
                Location(c.process.file),
            )
        seen[key] = c.process.file
        info = ProcessInfo(
            index=j, key=key, process_id=c.process.id, product_id=flow.id, name=c.process.name,
            reference_product=flow.name, unit=flow.unit, location=c.process.location,
            category=c.process.category, allocation=c.allocation,
            treatment=c.function.amount < 0, names=c.process.names, product_names=flow.names,
        )  # fmt: skip
        infos.append(info)
    return infos
