"""Background LCI databases: import (openLCA JSON-LD, ecospold2), link, solve every process.

Public face: `databases` (import, list, open, footprints, factorisation); `linking` matches
product inputs to their providers and reports what it could not link.
"""
