"""Build a big, realistic, migrated SQLite database for the benchmarks.

    python -m bench.generate --clients 1000000 --invoices 5000000 --out bench/data/big.sqlite3

The file is migrated with :func:`core.migrate.upgrade` (so it has exactly the app's schema),
then filled with the raw ``sqlite3`` module: ``executemany`` in large batches inside one
transaction, journal and fsync off while loading. The search triggers and the secondary
indexes of the loaded tables are dropped first and rebuilt afterwards (building an index
once is much cheaper than maintaining it through millions of inserts); the search index is
refilled with :func:`core.search_schema.rebuild_statements`, merged into one segment, and the
file is ANALYZEd.

What is generated (seeded, so two runs give the same file): clients (70 % people, 30 %
companies; mostly active, some leads and archived), 1–3 contacts each with emails and
E.164 phones, a billing or service address (some have a second property), tags, invoices
spread evenly over the 3 years up to today with gapless numbers in issue order (most paid,
the younger the more often still open, a few void, a few drafts without number), balances
consistent with the status, and one payment for every paid or partly paid invoice.
Not generated: line items, proposals, jobs and visits (the benchmarks do not read them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from core import migrate, search_schema
from core.db import Database

BATCH = 50_000
SPAN_DAYS = 3 * 365
LOADED_TABLES = ("clients", "contacts", "addresses", "client_tags", "invoices", "payments")

FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily "
    "Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa "
    "Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry "
    "Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory "
    "Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine "
    "Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce "
    "Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Noah Joan "
    "Ethan Evelyn Jeremy Judith Walter Megan Christian Andrea Keith Cheryl Roger Hannah "
    "Terry Jacqueline Austin Martha Sean Gloria Gerald Teresa Carl Ann Harold Sara Dylan "
    "Madison Arthur Frances Lawrence Kathryn Jordan Janice Jesse Jean Bryan Abigail Billy "
    "Alice Bruce Judy Gabriel Sophia Joe Grace Logan Denise Alan Amber Juan Doris Albert "
    "Marilyn Willie Danielle Elijah Beverly Wayne Isabella Randy Theresa Vincent Diana "
    "Mason Natalie Roy Brittany Ralph Charlotte Bobby Marie Russell Kayla Bradley Alexis "
    "José Zoë Renée Łukasz Siobhán Björn Chloé Ngozi Mei Hiroshi Priya Aarav Fatima Omar"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
    "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar "
    "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington "
    "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson "
    "Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes "
    "Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant "
    "Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart Bradley Knight "
    "O'Brien Müller Østergaard Nakamura Okafor Dubois Kowalski Andersson Papadopoulos"
).split()
TRADES = [t.replace("~", " ") for t in (
    "Landscaping Lawn~Care Cleaning Plumbing Electric Roofing Painting HVAC Pool~Service "
    "Pest~Control Handyman Window~Washing Carpet~Care Tree~Service Snow~Removal Gutters "
    "Remodeling Flooring Fencing Irrigation Masonry Moving Catering Property~Management "
    "Dental Veterinary Realty Bakery Cafe Consulting Accounting Law Fitness Salon Auto~Repair"
).split()]
COMPANY_WORDS = (
    "Acme Summit Pioneer Evergreen Blue Ridge Golden Gate Riverside Lakeside Oak Maple Cedar "
    "Pine Harbor Northern Southern Eastern Western Pacific Atlantic Prairie Canyon Valley "
    "Sunrise Sunset Silver Granite Liberty Heritage Meridian Horizon Keystone Cornerstone "
    "Redwood Willow Aspen Birch Coastal Metro Urban Country Hilltop Brightside Crescent"
).split()
COMPANY_SUFFIX = ("LLC", "Inc.", "Co.", "Group", "& Sons", "Partners", "Ltd.", "")
ROLES = ("Owner", "Office Manager", "Accounts Payable", "Facilities", "Property Manager", "")
STREETS = (
    "Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Walnut Sunset Lincoln Jackson "
    "Church Highland River Spring Chestnut Willow Meadow Forest Ridge Valley Franklin Jefferson "
    "Madison Adams Cherry Birch Dogwood Magnolia Laurel Hickory Sycamore Poplar Holly Juniper "
    "Center Mill School North South East West Union Broad Market Water Bridge Front Prospect"
).split()
STREET_SUFFIX = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl", "Ter")
CITIES = (
    ("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"),
    ("Denver", "CO", "802"), ("Madison", "WI", "537"), ("Raleigh", "NC", "276"),
    ("Boise", "ID", "837"), ("Tucson", "AZ", "857"), ("Columbus", "OH", "432"),
    ("Sacramento", "CA", "958"), ("Richmond", "VA", "232"), ("Albany", "NY", "122"),
    ("Burlington", "VT", "054"), ("Savannah", "GA", "314"), ("Omaha", "NE", "681"),
    ("Spokane", "WA", "992"), ("Tampa", "FL", "336"), ("Reno", "NV", "895"),
    ("Des Moines", "IA", "503"), ("Nashville", "TN", "372"), ("Lexington", "KY", "405"),
    ("Charleston", "SC", "294"), ("Santa Fe", "NM", "875"), ("Anchorage", "AK", "995"),
    ("Honolulu", "HI", "968"), ("Providence", "RI", "029"), ("Wichita", "KS", "672"),
    ("Fargo", "ND", "581"), ("Billings", "MT", "591"), ("Portland", "ME", "041"),
)
AREA_CODES = (
    "217", "503", "512", "303", "608", "919", "208", "520", "614", "916", "804", "518",
    "802", "912", "402", "509", "813", "775", "515", "615", "859", "843", "505", "907",
    "808", "401", "316", "701", "406", "207", "415", "212", "312", "617", "206", "713",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")
TAGS = ("vip", "commercial", "residential", "monthly", "referral", "weekly", "slow payer")
METHODS = ("card", "card", "stripe", "stripe", "check", "bank", "bank", "cash")

CLIENT_SQL = (
    "INSERT INTO clients (id, kind, name, sort_name, company_name, status, notes, custom_fields,"
    " version, created_at, updated_at) VALUES (?,?,?,?,?,?,'','{}',1,?,?)"
)
CONTACT_SQL = (
    "INSERT INTO contacts (id, client_id, name, email, phone, phone_national, role, is_primary,"
    " sms_consent, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,1,?,?)"
)
ADDRESS_SQL = (
    "INSERT INTO addresses (id, client_id, kind, label, line1, line2, city, region, postal_code,"
    " country, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,'US',1,?,?)"
)
TAG_SQL = "INSERT INTO client_tags (client_id, tag) VALUES (?,?)"
INVOICE_SQL = (
    "INSERT INTO invoices (id, number, kind, client_id, status, issue_date, due_date, terms_days,"
    " terms, notes, paid_cents, credited_cents, balance_cents, issued_at, paid_at, version,"
    " created_at, updated_at, currency, rounding_rule, discount_kind, discount_value,"
    " subtotal_cents, discount_cents, tax_cents, total_cents) VALUES"
    " (?,?,'standard',?,?,?,?,?,'','',?,?,?,?,?,1,?,?,'USD','half_up_per_line','none','0',?,0,?,?)"
)
PAYMENT_SQL = (
    "INSERT INTO payments (id, invoice_id, client_id, amount_cents, refunded_cents, method,"
    " received_on, reference, created_at) VALUES (?,?,?,?,0,?,?,?,?)"
)


@dataclass
class Stats:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class _Days:
    """ISO strings for every day of the span (and a margin after it), indexed by day number."""

    def __init__(self, today: dt.date) -> None:
        self.start = today - dt.timedelta(days=SPAN_DAYS)
        self.date = [(self.start + dt.timedelta(days=i)).isoformat() for i in range(SPAN_DAYS + 120)]
        # SQLAlchemy's SQLite DateTime text format, so the ORM reads these back unchanged
        self.stamp = [
            [f"{d} {h:02d}:{m:02d}:00.000000" for h in range(7, 19) for m in (0, 15, 30, 45)]
            for d in self.date
        ]


def _phone(rnd: random.Random) -> tuple[str, str]:
    national = (
        f"{rnd.choice(AREA_CODES)}{rnd.randint(2, 9)}{rnd.randint(0, 99):02d}{rnd.randint(0, 9999):04d}"
    )
    return "+1" + national, national


def _email(rnd: random.Random, first: str, last: str, n: int, domain: str | None = None) -> str:
    local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    if rnd.random() < 0.6:
        local += str(n % 1000)
    return f"{local}@{domain or rnd.choice(EMAIL_DOMAINS)}"


def client_batches(
    rnd: random.Random, n_clients: int, days: _Days
) -> Iterator[tuple[list[tuple], list[tuple], list[tuple], list[tuple]]]:
    """Yield (clients, contacts, addresses, tags) rows, about BATCH clients at a time."""
    contact_id = address_id = 0
    random_ = rnd.random
    choice = rnd.choice
    randint = rnd.randint
    clients: list[tuple] = []
    contacts: list[tuple] = []
    addresses: list[tuple] = []
    tags: list[tuple] = []
    for cid in range(1, n_clients + 1):
        day = randint(0, SPAN_DAYS)
        created = choice(days.stamp[day])
        r = random_()
        status = "active" if r < 0.85 else ("lead" if r < 0.95 else "archived")
        first, last = choice(FIRST), choice(LAST)
        if random_() < 0.7:
            kind, name, company = "person", f"{first} {last}", ""
            domain = None
            people = [(first, last, "", True)]
            if random_() < 0.25:
                people.append((choice(FIRST), last, "", False))
        else:
            kind = "company"
            word = choice(COMPANY_WORDS) if random_() < 0.6 else last
            company = f"{word} {choice(TRADES)} {choice(COMPANY_SUFFIX)}".strip()
            name = company
            domain = f"{word.lower()}{cid % 997}.example".replace("'", "")
            people = [(first, last, choice(ROLES), True)]
            for _ in range(randint(0, 2)):
                people.append((choice(FIRST), choice(LAST), choice(ROLES), False))
        clients.append((cid, kind, name, name.casefold()[:300], company, status, created, created))
        for pf, pl, role, primary in people:
            contact_id += 1
            e164, national = _phone(rnd)
            contacts.append((
                contact_id, cid, f"{pf} {pl}", _email(rnd, pf, pl, contact_id, domain), e164,
                national, role, int(primary), int(random_() < 0.3), created, created,
            ))
        city, region, zip3 = choice(CITIES)
        address_id += 1
        addresses.append((
            address_id, cid, "billing" if kind == "company" else "service", "",
            f"{randint(1, 9999)} {choice(STREETS)} {choice(STREET_SUFFIX)}",
            f"Suite {randint(100, 999)}" if kind == "company" and random_() < 0.3 else "",
            city, region, f"{zip3}{randint(0, 99):02d}", created, created,
        ))
        if random_() < 0.2:
            city, region, zip3 = choice(CITIES)
            address_id += 1
            addresses.append((
                address_id, cid, "service", choice(("Rental", "Lake house", "Office", "Unit B")),
                f"{randint(1, 9999)} {choice(STREETS)} {choice(STREET_SUFFIX)}", "",
                city, region, f"{zip3}{randint(0, 99):02d}", created, created,
            ))
        if random_() < 0.2:
            tags.append((cid, choice(TAGS)))
        if len(clients) >= BATCH:
            yield clients, contacts, addresses, tags
            clients, contacts, addresses, tags = [], [], [], []
    if clients:
        yield clients, contacts, addresses, tags


def _open_probability(age_days: int) -> float:
    """The younger an invoice, the likelier it is still unpaid."""
    if age_days < 30:
        return 0.6
    if age_days < 60:
        return 0.25
    if age_days < 90:
        return 0.1
    if age_days < 180:
        return 0.04
    return 0.015


def invoice_batches(
    rnd: random.Random, n_invoices: int, n_clients: int, days: _Days
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Yield (invoices, payments) rows. Invoices are numbered in issue order; the last
    0.5 % are drafts (no number, no dates)."""
    random_ = rnd.random
    randint = rnd.randint
    choice = rnd.choice
    n_drafts = max(1, n_invoices // 200) if n_invoices > 1 else 0
    n_issued = n_invoices - n_drafts
    invoices: list[tuple] = []
    payments: list[tuple] = []
    payment_id = 0
    probability = [_open_probability(a) for a in range(SPAN_DAYS + 1)]
    for i in range(n_invoices):
        iid = i + 1
        client = randint(1, n_clients)
        total = randint(20, 3000) * 25 + randint(0, 24)  # $5.00 – $750.24
        tax = total * 8 // 108
        terms = choice((15, 30, 30, 30, 45, 60))
        if i >= n_issued:
            created = choice(days.stamp[SPAN_DAYS])
            invoices.append((
                iid, None, client, "draft", None, None, terms, 0, 0, 0, None, None,
                created, created, total - tax, tax, total,
            ))
        else:
            issue = i * (SPAN_DAYS + 1) // max(1, n_issued)
            age = SPAN_DAYS - issue
            issued_at = choice(days.stamp[issue])
            paid = credited = 0
            paid_at = None
            r = random_()
            if r < 0.004:
                status, credited, balance = "void", total, 0
            elif r < 0.004 + probability[age]:
                if random_() < 0.5:
                    status, balance = "issued", total
                else:
                    paid = total * randint(10, 90) // 100
                    status, balance = "partially_paid", total - paid
            else:
                status, paid, balance = "paid", total, 0
            if paid:
                received = min(SPAN_DAYS, issue + randint(0, terms + 20))
                payment_id += 1
                method = choice(METHODS)
                stamp = choice(days.stamp[received])
                payments.append((
                    payment_id, iid, client, paid, method, days.date[received],
                    f"Check {randint(1000, 9999)}" if method == "check" else "", stamp,
                ))
                if status == "paid":
                    paid_at = stamp
            invoices.append((
                iid, f"INV-{i + 1:04d}", client, status, days.date[issue], days.date[issue + terms],
                terms, paid, credited, balance, issued_at, paid_at, issued_at, paid_at or issued_at,
                total - tax, tax, total,
            ))
        if len(invoices) >= BATCH:
            yield invoices, payments
            invoices, payments = [], []
    if invoices:
        yield invoices, payments


def _produce(out: Any, seed: int, n_clients: int, n_invoices: int, today: dt.date) -> None:
    rnd = random.Random(seed)
    days = _Days(today)
    for batch in client_batches(rnd, n_clients, days):
        out.put(("clients", batch))
    for invoice_batch in invoice_batches(rnd, n_invoices, n_clients, days):
        out.put(("invoices", invoice_batch))
    out.put(None)


def _batches_from_a_helper_process(
    seed: int, n_clients: int, n_invoices: int, today: dt.date
) -> Iterator[tuple[str, Any]]:
    """The rows, made in a second process while this one inserts (generating them costs
    about as much Python time as inserting them)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    worker = context.Process(target=_produce, args=(queue, seed, n_clients, n_invoices, today),
                             daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = queue.get(timeout=5)
            except Empty:
                if not worker.is_alive():
                    raise RuntimeError("the row generator process died") from None
                continue
            if item is None:
                return
            yield item
    finally:
        worker.join(timeout=5)
        if worker.is_alive():
            worker.terminate()


def _secondary_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(LOADED_TABLES))
    return conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})",
        LOADED_TABLES,
    ).fetchall()


def generate(
    out: Path,
    n_clients: int,
    n_invoices: int,
    *,
    seed: int = 42,
    today: dt.date | None = None,
    log: Callable[[str], None] = print,
) -> Stats:
    """Create ``out`` afresh (an existing file is replaced) and fill it. Returns row counts
    and the seconds each phase took."""
    if n_clients < 1 or n_invoices < 0:
        raise ValueError("need at least one client and a non-negative number of invoices")
    today = today or dt.date.today()
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    stats = Stats()
    t0 = time.perf_counter()
    db = Database(str(out))
    migrate.upgrade(db)
    db.dispose()
    stats.seconds["migrate"] = time.perf_counter() - t0

    conn = sqlite3.connect(str(out), isolation_level=None)
    for pragma in (
        "journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE", "foreign_keys=OFF",
        "cache_size=-1000000", "temp_store=MEMORY",
    ):
        conn.execute(f"PRAGMA {pragma}")
    indexes = _secondary_indexes(conn)
    for name in search_schema.trigger_names():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")

    days = _Days(today)
    counts = dict.fromkeys(LOADED_TABLES, 0)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for kind, batch in _batches_from_a_helper_process(seed, n_clients, n_invoices, today):
        if kind == "clients":
            clients, contacts, addresses, tags = batch
            conn.executemany(CLIENT_SQL, clients)
            conn.executemany(CONTACT_SQL, contacts)
            conn.executemany(ADDRESS_SQL, addresses)
            conn.executemany(TAG_SQL, tags)
            for table, rows in (("clients", clients), ("contacts", contacts),
                                ("addresses", addresses), ("client_tags", tags)):
                counts[table] += len(rows)
        else:
            invoices, payments = batch
            conn.executemany(INVOICE_SQL, invoices)
            conn.executemany(PAYMENT_SQL, payments)
            counts["invoices"] += len(invoices)
            counts["payments"] += len(payments)
    n_issued = n_invoices - (max(1, n_invoices // 200) if n_invoices > 1 else 0)
    # the app continues the gapless numbering after the generated invoices
    conn.execute(
        "INSERT INTO number_sequences (doc_type, scope, next_value) VALUES ('invoice', '', ?)",
        (n_issued + 1,),
    )
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('business', ?, ?)",
        ('{"name": "Benchmark Services Co"}', days.stamp[SPAN_DAYS][0]),
    )
    conn.execute("COMMIT")
    stats.seconds["insert"] = time.perf_counter() - t0
    stats.rows.update(counts)
    log(f"  rows inserted: {sum(counts.values()):,} in {stats.seconds['insert']:.1f} s")

    t0 = time.perf_counter()
    conn.execute("PRAGMA threads=4")  # the sorter builds big indexes with helper threads
    for _name, sql in indexes:
        conn.execute(sql)
    stats.seconds["indexes"] = time.perf_counter() - t0
    log(f"  {len(indexes)} indexes built in {stats.seconds['indexes']:.1f} s")

    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for stmt in search_schema.rebuild_statements("sqlite"):
        conn.execute(stmt)
    for stmt in search_schema.create_trigger_statements("sqlite"):
        conn.execute(stmt)
    conn.execute("COMMIT")
    # one b-tree instead of dozens of segments: prefix queries probe one place
    conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    stats.seconds["search index"] = time.perf_counter() - t0
    stats.rows["search_fts"] = conn.execute("SELECT count(*) FROM search_fts").fetchone()[0]
    log(f"  search index: {stats.rows['search_fts']:,} entries in {stats.seconds['search index']:.1f} s")

    t0 = time.perf_counter()
    # full statistics: with analysis_limit SQLite estimated 2,001 invoices per status
    # instead of a million and chose ix_invoices_status_id over the partial indexes
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    stats.seconds["analyze"] = time.perf_counter() - t0
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=500_000)
    parser.add_argument("--out", type=Path, default=Path("bench/data/bench.sqlite3"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    print(f"generating {args.clients:,} clients and {args.invoices:,} invoices into {args.out}")
    stats = generate(args.out, args.clients, args.invoices, seed=args.seed)
    for phase, seconds in stats.seconds.items():
        print(f"  {phase:<14} {seconds:8.1f} s")
    rows = stats.total_rows - stats.rows.get("search_fts", 0)
    print(f"  table rows     {rows:>12,}  ({', '.join(f'{k} {v:,}' for k, v in stats.rows.items())})")
    print(f"  overall        {rows / stats.total_seconds:12,.0f} rows/s "
          f"({stats.total_seconds:.1f} s, indexes, search index and ANALYZE included)")
    size = args.out.stat().st_size
    print(f"  file size      {size / 2**20:12,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
