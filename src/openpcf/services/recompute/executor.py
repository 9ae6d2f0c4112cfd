"""Where the chunks of a run are computed: local processes, or a Dask cluster."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from typing import Any


class Executor:
    """(`submit(fn, *args) -> future`, how many run at once): a Dask cluster's when an address
    is given, else a pool of local processes (one per core)."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._client: Any = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> tuple[Callable[..., Any], int]:
        if self.address:
            from distributed import Client

            self._client = Client(self.address, timeout="30s")
            return self._client.submit, max(sum(self._client.nthreads().values()), 1)
        # fork: a worker starts in milliseconds with the numpy code it needs; spawn and
        # forkserver re-import the main module (the whole CLI) in every worker, seconds each.
        # Workers touch no database connection and leave through os._exit.
        method = "fork" if "fork" in get_all_start_methods() else "spawn"
        workers = os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context(method))
        return self._pool.submit, workers

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
