"""Tables of the monitoring feature (see migration 0006)."""

from __future__ import annotations

from openpcf.store.models import Base  # noqa: F401
