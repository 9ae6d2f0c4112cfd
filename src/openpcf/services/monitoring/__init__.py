"""Plant monitoring: meters, readings over MQTT, live energy and emissions, activity data.

Public face: `registry` (sites and meters), `ingest` (validated, idempotent storage of
readings, chained in the ledger), `mqtt` (the broker client feeding `ingest`), `live` (totals
and series for the API and web), `activity` (metered activity as model inputs), `factors`
(emission factors for meters), `simulate` (a meter simulator for demos and benchmarks).
"""
