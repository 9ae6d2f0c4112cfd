"""Certification of results: submission, review, signing, the public registry, the ledger.

Public face: `workflow` (submit, review, certify, revoke), `signing` (Ed25519 keys and
certificate documents), `certified_results` (what a certificate binds), `registry` (the public
disclosure registry), `ledger` (the hash-chained record of certificates and green power) and
`green_certificates` (green electricity certificate claims, once each).
"""
