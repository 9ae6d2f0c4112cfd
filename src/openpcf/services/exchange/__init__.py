"""PACT data exchange with partners (Technical Specification v2 and v3).

Public face: `host` (what the PACT endpoints serve: footprints, filters, events), `delivery`
(asynchronous answers to partners' requests, stored with retries), `client` (asking suppliers'
hosts), `files` (PACT JSON export and import) and `supplier_requests` (the requests a company
sends and receives). `host` uses `delivery`; `delivery` reads footprints through `host`'s
query functions passed to it, never by importing `host`.
"""
