"""Tables of the recompute feature (see migration 0007)."""

from __future__ import annotations

from openpcf.store.models import Base  # noqa: F401
