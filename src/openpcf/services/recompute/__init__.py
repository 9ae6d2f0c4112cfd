"""Recompute every stored footprint that depends on a changed factor, beside the old ones.

At calculation time (`usage.record_usage`, called by `run_calculation`) each calculation records, per
factor-set version it drew on, its usage vector: how much of each factor's activity one declared
unit uses, by stage (`engine/recompute.py`). The set versions themselves are recorded whole, so
the old values are known even when the software no longer ships them.

`run.recompute(...)` for a new version NAME@VERSION then:
1. compares it with every recorded older version of NAME: a factor is unchanged, changed in
   value (linear: delta = usage x (new - old) . GWP weights), or one a calculation cannot follow
   linearly: removed, or a new unit (full recalculation, which reports what fails);
2. streams the usage of the calculations in scope (the tenant's for a tenant set, every
   tenant's for the bundled or a regulator's set) in chunks to worker processes (all local cores
   by default, or a Dask cluster: `scheduler` or OPENPCF_DASK_SCHEDULER), which return the change
   of each total and of each stage and gas;
3. recalculates in full, from the recorded model versions and set versions, the calculations the
   linear path cannot follow: those stored before usage was recorded, those using a removed or
   re-united factor, those whose usage could not be recorded exactly, and those resolving
   electricity by region and year when the set adds or drops an electricity factor (the choice of
   factor may change). The benchmark grade is not linear: it is re-read from the new total;
4. writes, in one transaction, a run and one `recomputed_footprints` row per recomputed
   calculation (new total, grade, changes by stage and gas as float64 values named by the run's
   `change_columns`; the full Result for full recalculations), by binary COPY built with numpy
   on PostgreSQL and 100-row INSERTs on SQLite. Old rows are never touched. A failed run stores
   nothing; running again for the same version skips the calculations it already recomputed.

Everything per calculation stays in numpy arrays from the read to the write: a Python object
per calculation (a dict, a JSON string, a row tuple built by hand) costs microseconds, and a
million of them was most of a run (see `benchmarks/recompute.py`).

The full result of a linear row is materialised on read (`read.recomputed_calculation`): the recorded
models recalculated with the run's set version, checked against the stored total to 1e-9.

The modules, in the order a run uses them: `usage` (recorded at calculation time), `changes`
(step 1), `linear` and `executor` (step 2), `full` (step 3), `write` (step 4), `report` (what a
run returns), `run` (the steps in order), `read` (a stored footprint, materialised on read).
"""
