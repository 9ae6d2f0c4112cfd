"""The platform under every domain: tenants, accounts, access, audit, sign-in, TLS, the demo.

Public face: `accounts` (tenants, users, API clients, tokens), `access` (who may read and write
what), `audit` (the audit log's reader), `sign_in` (web passwords), `tls` (certificates for
`serve --tls`) and `demo` (the demo world of `serve --demo`).
"""
