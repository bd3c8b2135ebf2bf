"""Time from a keystroke in the Clients search box to the frame that shows that text's hits.

    python -m bench.search_keys [--db bench/data/big.sqlite3] [--queries 60]

The real app runs headless (Textual's ``run_test``, 100x30) on the file. Each query of
``bench.run.search_queries`` (name prefixes, two half-typed words, emails, phones, streets,
ZIP codes, invoice numbers) is typed one key at a time at a fast typist's pace (a key every
60 ms). For every keystroke: from just before the key event is posted to the end of the
first refresh after the hits for exactly that text are in the results table. A keystroke
whose search was overtaken by the next key before it ran is not timed (the screen went
straight to the newer text's hits); how many were is printed.

Baseline, same run and same texts: the search alone (``core.search.search``, what the
screen's search thread calls), no UI. Target: p95 under
one frame (16 ms). The app needs a business name (else the first-run screen opens): the file
gets one if it has none, as in ``bench.startup``.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import tui  # noqa: F401 - first, as the app's entry point does: it sets TEXTUAL_FPS
from bench.run import p, search_queries
from bench.startup import prepare_database

DATA = Path(__file__).resolve().parent / "data"
PACE = 0.06


async def _type_all(db_path: Path, queries: list[str]) -> tuple[list[float], int, int]:
    from textual.widgets import Input

    from config import AppConfig
    from core.db import Database
    from core.search import terms
    from tui.app import CrmApp
    from tui.screens.clients import ClientListScreen

    painted: dict[int, float] = {}
    original = ClientListScreen._show_results

    def show_results(self, generation, found):  # type: ignore[no-untyped-def]
        original(self, generation, found)
        if generation == self._search_generation:
            self.app.call_after_refresh(lambda: painted.setdefault(generation, time.perf_counter()))

    ClientListScreen._show_results = show_results  # type: ignore[method-assign]
    db = Database(str(db_path))
    app = CrmApp(db, config=AppConfig())
    app.animation_level = "none"
    latencies: list[float] = []
    overtaken = unsearched = 0
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            screen = app.screen
            assert isinstance(screen, ClientListScreen)
            box = screen.query_one("#client-search", Input)
            for query in queries:
                box.focus()  # as a user does: the box has focus before the first key
                box.value = ""
                await pilot.pause(0.05)
                sent: dict[int, float] = {}
                for end, ch in enumerate(query, 1):
                    t0 = time.perf_counter()
                    await pilot.press(ch if ch.isalnum() else _key_name(ch))
                    if terms(query[:end]):
                        sent[screen._search_generation] = t0
                    else:  # a lone "+": nothing to search, the list comes back
                        unsearched += 1
                    await asyncio.sleep(PACE)
                await pilot.pause(0.2)  # the last key's hits
                for generation, t0 in sent.items():
                    if generation in painted:
                        latencies.append(painted[generation] - t0)
                    else:
                        overtaken += 1
    finally:
        ClientListScreen._show_results = original  # type: ignore[method-assign]
        db.dispose()
    return latencies, overtaken, unsearched


def _key_name(ch: str) -> str:
    names = {" ": "space", "@": "at", ".": "full_stop", "-": "minus", "+": "plus",
             "(": "left_parenthesis", ")": "right_parenthesis", "_": "underscore",
             "'": "apostrophe", ",": "comma", "/": "slash", "#": "number_sign", "&": "ampersand"}
    return names.get(ch, ch)


def _search_alone(db_path: Path, queries: list[str]) -> list[float]:
    from core.db import Database
    from core.search import search

    db = Database(str(db_path))
    times = []
    try:
        for query in queries:
            for end in range(1, len(query) + 1):
                text = query[:end]
                t0 = time.perf_counter()
                search(db, text, limit=50)
                times.append(time.perf_counter() - t0)
    finally:
        db.dispose()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_keys",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a file made by bench.generate "
                        "(default: bench/data/big.sqlite3, else bench/data/bench.sqlite3)")
    parser.add_argument("--queries", type=int, default=60, help="queries typed")
    args = parser.parse_args(argv)
    path = args.db or next((f for f in (DATA / "big.sqlite3", DATA / "bench.sqlite3")
                            if f.exists()), None)
    if path is None or not path.exists():
        print("bench: no data file; make one with python -m bench.generate", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tssg-search-keys-") as home:
        path = prepare_database(path, Path(home))
    raw = sqlite3.connect(str(path))
    n_clients = raw.execute("SELECT max(id) FROM clients").fetchone()[0]
    queries = search_queries(raw, n_clients, count=args.queries)
    raw.close()
    keys = sum(len(q) for q in queries)
    print(f"TSSG CRM Pro search as you type: {path.name} ({n_clients:,} clients), "
          f"{len(queries)} queries, {keys} keystrokes, a key every {PACE * 1000:.0f} ms")
    alone = _search_alone(path, queries)
    latencies, overtaken, unsearched = asyncio.run(_type_all(path, queries))
    print(f"  search alone (core.search)                  p50 {p(alone, 0.5) * 1000:6.2f} ms"
          f"   p95 {p(alone, 0.95) * 1000:6.2f} ms")
    print(f"  keystroke to the frame showing its hits     p50 {p(latencies, 0.5) * 1000:6.2f} ms"
          f"   p95 {p(latencies, 0.95) * 1000:6.2f} ms   "
          f"({p(latencies, 0.95) / p(alone, 0.95):.1f}x the search alone; target p95 < 16 ms)")
    print(f"  timed {len(latencies)} keystrokes; {overtaken} overtaken by the next key, "
          f"{unsearched} with nothing to search (a lone '+'); "
          f"max {max(latencies) * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
