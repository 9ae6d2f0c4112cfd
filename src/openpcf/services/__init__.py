"""Use cases, one package per domain. Interfaces (api, web, cli) call these; these call the core.

- `calculation`: a product model's footprint under a profile, its checks, comparisons across
  profiles, Monte Carlo uncertainty, CBAM declarations, and calculations stored per tenant.
- `catalogue`: products and their model versions, factor sets, the regulator's coverage view.
- `lci`: background LCI databases (import, provider linking, all-process footprints).
- `exchange`: PACT data exchange: the host API, the client, event delivery, files, supplier requests.
- `certification`: submission and review, signing, certificates, the public registry, the ledger.
- `monitoring`: plant meters: registry, MQTT ingestion, live views, activity data for models.
- `recompute`: recomputing every stored footprint when a factor set changes.
- `policy`: the policy and standards tracker: documents by region and sector, maps of China.
- `platform`: tenants, accounts, access rules, audit log, sign-in, TLS and the demo world.

`errors` holds the service errors every domain raises (not found, forbidden, conflict).
"""
