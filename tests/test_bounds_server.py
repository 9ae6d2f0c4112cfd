"""Hostile uploads against a real server (`openpcf serve --demo` in a subprocess on a free port):
each is refused quickly with the limit it broke, and the server keeps answering others meanwhile.

Before the bounds, the 7-level alias model took 146 s and ended in a 500, the XFD1048576
workbook 58 s at 5.3 GB, and a GET /products sent meanwhile waited 57 s (issue 14)."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import httpx

from openpcf.services.platform.demo import DEMO_PASSWORD
from tests.hostile import alias_bomb, far_cell_workbook
from tests.test_serve import serving
from tests.web_world import csrf_of

URN = "urn:openpcf:product:demo:lfp-cathode"


def _web_client(base: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=base, timeout=30)
    token = csrf_of(c.get("/sign-in").text)
    r = c.post("/sign-in", data={"email": "member@demo.example", "password": DEMO_PASSWORD,
                                 "csrf_token": token, "next": "/app"})  # fmt: skip
    assert r.status_code == 303, r.text
    return c, csrf_of(c.get("/app/products").text)


def test_hostile_uploads_are_refused_fast_while_the_server_answers_others(
    tmp_path: Path,
) -> None:
    book = far_cell_workbook(tmp_path / "far.xlsx").read_bytes()
    bomb = alias_bomb(7)
    assert len(bomb) < 800  # a few hundred bytes for 9**7 = 4.8 million values
    with serving(tmp_path) as server:
        admin = {"Authorization": f"Bearer {server.token('admin@demo.example')}"}
        hostile: list[tuple[str, int, float, str]] = []
        failures: list[BaseException] = []

        def attack() -> None:
            try:
                _attack()
            except BaseException as exc:  # reported by the test thread below
                failures.append(exc)

        def _attack() -> None:
            with httpx.Client(base_url=server.base, timeout=60) as api:
                web, csrf = _web_client(server.base)
                try:  # a first, untimed upload: the server imports openpyxl and lxml lazily
                    web.post("/app/products/lfp-cathode/versions/upload", data={"csrf_token": csrf},
                             files={"document": ("far.xlsx", book)})  # fmt: skip
                    for _ in range(5):
                        t = time.perf_counter()
                        r = api.post(f"/products/{URN}/versions", content=bomb.encode(),
                                     headers={**admin, "Content-Type": "application/yaml"})  # fmt: skip
                        hostile.append(("yaml", r.status_code, time.perf_counter() - t, r.text))
                        t = time.perf_counter()
                        r = web.post(
                            "/app/products/lfp-cathode/versions/upload",
                            data={"csrf_token": csrf},
                            files={"document": ("far.xlsx", book)},
                        )
                        hostile.append(("xlsx", r.status_code, time.perf_counter() - t, r.text))
                finally:
                    web.close()

        with server.client() as http:
            assert http.get("/products", headers=admin).status_code == 200  # warm
            before = len(http.get(f"/products/{URN}/versions", headers=admin).json())
            thread = threading.Thread(target=attack)
            thread.start()
            waits = []
            while thread.is_alive():
                t = time.perf_counter()
                r = http.get("/products", headers=admin)
                waits.append(time.perf_counter() - t)
                assert r.status_code == 200
            thread.join()
            after = len(http.get(f"/products/{URN}/versions", headers=admin).json())

    assert not failures, failures
    assert len(hostile) == 10
    for kind, status, seconds, text in hostile:
        assert seconds < 1.0, (kind, seconds)
        if kind == "yaml":
            assert status == 413, text
            body = httpx.Response(status, text=text).json()
            assert body["code"] == "limit_exceeded"
            assert body["details"]["limit"] == {"name": "nodes", "value": 100_000}
        else:  # the web page says what was refused and where
            assert status == 422, text
            assert "XFD1048576" in text and "sheet_rows" in text
    assert after == before  # nothing stored
    # Each GET meanwhile answers in under 200 ms; a shared CI machine (load 7 on 2 cores seen)
    # may delay a few by scheduling alone, so 1 in 10 may take up to 1 s (not 57 s as before).
    waits.sort()
    assert waits and waits[int(len(waits) * 0.9) - 1] < 0.2, waits
    assert waits[-1] < 1.0, waits
    print(
        f"GET /products while attacked: n={len(waits)} median={statistics.median(waits):.3f}s max={max(waits):.3f}s; refusals max {max(h[2] for h in hostile):.3f}s"
    )
