"""Tables of the certification feature (see migration 0005)."""

from __future__ import annotations

from openpcf.store.models import Base  # noqa: F401
