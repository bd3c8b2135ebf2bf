"""Time the read paths a user waits on, ours next to raw sqlite3 running the same SQL.

    python -m bench.run [--db bench/data/big.sqlite3]

Without ``--db`` it uses bench/data/bench.sqlite3 and generates it first (100,000 clients,
500,000 invoices) when it does not exist, so ``make bench`` works out of the box.

"Ours" goes through the product code (core.lists, core.search, core.reports, core.overview,
the ORM); "raw" replays the very statements ours sent (captured with their parameters from
SQLAlchemy's events and from ``Database.read_row``) on a plain ``sqlite3`` connection and
fetches every row. The ratio is the cost of our layers. Each figure is the median of repeated
runs after a warm-up, ours and raw timed in turns (search: p50 and p95 over ~200 realistic
as-you-type queries). Targets: list page and open client within 3x of raw, search p95 under
5 ms, aged receivables under 1 s. Start-up time: ``python -m bench.startup``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, func, select

from core import lists, overview, reports, search
from core.db import Database
from core.models import Client, Invoice

DEFAULT_DB = Path("bench/data/bench.sqlite3")
DEFAULT_CLIENTS, DEFAULT_INVOICES = 100_000, 500_000
PAGE = 50


@contextmanager
def captured(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Collect what ours sends inside the block: each read transaction's BEGIN and its
    SELECTs with their parameters as SQLAlchemy sends them (the transaction ends with a
    rollback, not a statement), and the statements run on the driver's cursor through
    ``Database.read_row`` (core.overview), which SQLAlchemy's events do not see."""
    sent: list[tuple[str, Any]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() in ("SELECT", "WITH (", "BEGIN"):
            sent.append((statement, parameters))

    read_row = db.read_row

    def recording_read_row(sql: str, parameters: Any) -> Any:
        sent.append((sql, parameters))
        return read_row(sql, parameters)

    event.listen(db.engine, "before_cursor_execute", listener)
    db.read_row = recording_read_row  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        del db.read_row  # the class's method again
        event.remove(db.engine, "before_cursor_execute", listener)


def replay(raw: sqlite3.Connection, statements: list[tuple[str, Any]]) -> Callable[[], None]:
    """The same statements on raw sqlite3, in the same transactions, every row fetched."""
    def run() -> None:
        for sql, params in statements:
            if sql.startswith("BEGIN") and raw.in_transaction:
                raw.execute("ROLLBACK")
            raw.execute(sql, params).fetchall()
        if raw.in_transaction:
            raw.execute("ROLLBACK")
    return run


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass
class Line:
    name: str
    ours: float  # seconds
    raw: float
    target: str
    ok: bool | None  # None: a comparison with no target, no verdict

    def show(self) -> str:
        ratio = self.ours / self.raw if self.raw else float("inf")
        return (f"  {self.name:<44} {_ms(self.ours):>10} {_ms(self.raw):>10} {ratio:>6.1f}x"
                f"   {self.target:<14} {'' if self.ok is None else 'ok' if self.ok else 'MISSED'}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def compare(db: Database, raw: sqlite3.Connection, fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median seconds of ``fn`` and of replaying its SQL on raw sqlite3, timed in turns (one
    of ours, one raw, ...) so that a busy machine slows both alike."""
    with captured(db) as sent:
        fn()
    if not sent:
        raise RuntimeError("nothing captured: the raw baseline would be empty")
    theirs_fn = replay(raw, sent)
    for _ in range(3):  # warm-up
        fn()
        theirs_fn()
    ours, theirs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        theirs_fn()
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        theirs.append(t2 - t1)
    return statistics.median(ours), statistics.median(theirs)


def search_queries(raw: sqlite3.Connection, n_clients: int, count: int = 200) -> list[str]:
    """What people type: name prefixes, two half-typed words, email and phone prefixes,
    streets, ZIP codes and invoice numbers, picked from random rows of the data."""
    rnd = random.Random(7)

    def one(sql: str) -> tuple:
        while True:
            row = raw.execute(sql, (rnd.randint(1, n_clients),)).fetchone()
            if row:
                return row

    out: list[str] = []
    max_invoice = raw.execute("SELECT max(id) FROM invoices WHERE number IS NOT NULL").fetchone()[0] or 1
    while len(out) < count:
        kind = len(out) % 8
        if kind == 0:
            (name,) = one("SELECT name FROM clients WHERE id = ?")
            word = rnd.choice(name.split())
            out.append(word[: rnd.randint(2, max(2, len(word)))])
        elif kind == 1:
            (name,) = one("SELECT name FROM contacts WHERE client_id = ?")
            words = name.split()
            out.append(" ".join(w[: rnd.randint(2, 4)] for w in words[:2]))
        elif kind == 2:
            (email,) = one("SELECT email FROM contacts WHERE client_id = ?")
            out.append(email[: rnd.randint(3, len(email))])
        elif kind == 3:
            (national,) = one("SELECT phone_national FROM contacts WHERE client_id = ?")
            out.append(national[: rnd.randint(4, 10)])
        elif kind == 4:
            (e164,) = one("SELECT phone FROM contacts WHERE client_id = ?")
            out.append(e164[: rnd.randint(6, len(e164))])
        elif kind == 5:
            line1, city = one("SELECT line1, city FROM addresses WHERE client_id = ?")
            number, street = line1.split()[:2]
            out.append(rnd.choice([f"{number} {street[:3]}", city[:5], f"{street} {city[:3]}"]))
        elif kind == 6:
            (zip_code,) = one("SELECT postal_code FROM addresses WHERE client_id = ?")
            out.append(zip_code[: rnd.randint(3, 5)])
        else:
            row = raw.execute("SELECT number FROM invoices WHERE id = ?",
                              (rnd.randint(1, max_invoice),)).fetchone()
            if row and row[0]:
                out.append(row[0] if rnd.random() < 0.5 else row[0][: rnd.randint(5, len(row[0]))])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a file made by bench.generate")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per figure")
    args = parser.parse_args(argv)
    path: Path = args.db or DEFAULT_DB
    if not path.exists():
        if args.db is not None:
            print(f"bench: {path} does not exist (make one with python -m bench.generate)",
                  file=sys.stderr)
            return 2
        from bench.generate import generate

        print(f"no benchmark data yet: generating {DEFAULT_CLIENTS:,} clients and "
              f"{DEFAULT_INVOICES:,} invoices into {path} (once)")
        generate(path, DEFAULT_CLIENTS, DEFAULT_INVOICES, log=print)

    db = Database(str(path))
    raw = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    raw.execute("PRAGMA busy_timeout=30000")
    today = dt.date.today()
    n_clients = raw.execute("SELECT max(id) FROM clients").fetchone()[0]
    n_invoices = raw.execute("SELECT count(*) FROM invoices").fetchone()[0]
    print(f"TSSG CRM Pro read benchmark: {path} ({n_clients:,} clients, {n_invoices:,} invoices),"
          f" SQLite {sqlite3.sqlite_version}, today {today}")
    print(f"  {'':<44} {'ours':>10} {'raw':>10} {'ratio':>7}   target")
    lines: list[Line] = []
    repeat = max(3, args.repeat)

    def report(line: Line) -> None:
        lines.append(line)
        print(line.show(), flush=True)

    # --- list pages: the clients list by name, first page and one deep in the middle
    ours, theirs = compare(db, raw, lambda: lists.list_clients(db, limit=PAGE), repeat)
    report(Line(f"list page: clients by name, first {PAGE}", ours, theirs, "<= 3x raw", ours <= 3 * theirs))
    middle = raw.execute(
        "SELECT sort_name, id FROM clients WHERE status != 'archived' ORDER BY sort_name, id"
        " LIMIT 1 OFFSET ?", (n_clients // 2,)
    ).fetchone()
    ours, theirs = compare(db, raw, lambda: lists.list_clients(db, cursor=tuple(middle), limit=PAGE), repeat)
    report(Line(f"list page: clients by name, {n_clients // 2:,} deep", ours, theirs, "<= 3x raw",
                ours <= 3 * theirs))
    ours, theirs = compare(db, raw, lambda: lists.list_invoices(db, today=today, limit=PAGE), repeat)
    report(Line(f"list page: invoices newest first, first {PAGE}", ours, theirs, "<= 3x raw",
                ours <= 3 * theirs))

    # --- search as you type
    queries = search_queries(raw, n_clients)
    ours_t, raw_t = [], []
    for q in queries:
        search.search(db, q)  # warm
        with captured(db) as sent:
            t0 = time.perf_counter()
            search.search(db, q)
            ours_t.append(time.perf_counter() - t0)
        run_raw = replay(raw, sent)
        t0 = time.perf_counter()
        run_raw()
        raw_t.append(time.perf_counter() - t0)
    report(Line(f"search p50 ({len(queries)} typed prefixes)", p(ours_t, 0.5), p(raw_t, 0.5), "", True))
    report(Line(f"search p95 ({len(queries)} typed prefixes)", p(ours_t, 0.95), p(raw_t, 0.95),
                "p95 < 5 ms", p(ours_t, 0.95) < 0.005))
    slowest = sorted(zip(ours_t, queries, strict=True), reverse=True)[:3]
    print("    slowest: " + ", ".join(f"{q!r} {_ms(t)}" for t, q in slowest))

    # --- open a client: the detail screen's read model, and the brief's five queries
    rnd = random.Random(11)
    owing = [r[0] for r in raw.execute(
        "SELECT client_id FROM invoices WHERE status IN ('issued','partially_paid') LIMIT 2000")]
    picks = [rnd.choice(owing) for _ in range(25)] + [rnd.randint(1, n_clients) for _ in range(25)]

    def open_overview() -> None:
        for cid in picks:
            overview.client_overview(db, cid, today=today)

    ours, theirs = compare(db, raw, open_overview, max(5, repeat // 2))
    report(Line("open client: core.overview (per client)", ours / len(picks), theirs / len(picks),
                "<= 3x raw", ours <= 3 * theirs))

    balance = (select(func.coalesce(func.sum(Invoice.balance_cents), 0))
               .where(Invoice.client_id == bindparam("cid"), lists.open_invoice()))

    def open_client_queries() -> None:
        for cid in picks:
            with db.read() as s:
                assert s.get(Client, cid) is not None
                s.scalar(balance, {"cid": cid})
            lists.list_contacts(db, client_id=cid)
            lists.list_addresses(db, client_id=cid)
            lists.list_invoices(db, today=today, client_id=cid, status="open", limit=PAGE)

    ours, theirs = compare(db, raw, open_client_queries, max(3, repeat // 10))
    # for comparison only: the screen reads a client with core.overview (above), not this way
    report(Line("open client: ORM + core.lists (per client)", ours / len(picks), theirs / len(picks),
                "(comparison)", None))

    # --- reports
    ours, theirs = compare(db, raw, lambda: reports.aged_receivables(db, today), 3)
    report(Line("aged receivables (full report)", ours, theirs, "< 1 s", ours < 1.0))
    aging = reports.aged_receivables(db, today, limit=20)
    print(f"    {aging.client_count:,} clients owe {aging.totals.total_cents / 100:,.2f};"
          f" over 90 days {aging.totals.days_over_90_cents / 100:,.2f}")
    year_ago = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    ours, theirs = compare(db, raw, lambda: reports.revenue_by_month(db, year_ago, today), 3)
    report(Line("revenue by month (12 months)", ours, theirs, "", True))

    missed = [line.name for line in lines if line.ok is False]
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    raw.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
