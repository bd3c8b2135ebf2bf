"""A realistic sample business for trying the app: ``tssg-crm demo`` and the first-run screen.

Everything is created through the services (so the demo exercises the same rules as real use),
generated locally from a fixed seed (no network), and dated relative to ``today``. Every client
gets one of eight stories, so with the default 40 clients there are proposals in every state,
one-off and recurring jobs with visits and service logs, and invoices that are paid, partially
paid, overdue and still draft, plus tasks due, overdue and upcoming.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from decimal import Decimal

from sqlalchemy import select

from core import (
    business,
    catalog,
    clients,
    invoices,
    jobs,
    payments,
    proposals,
    staff,
    tasks,
)
from core.db import Database
from core.lines import LineData
from core.models import Address, Invoice, PriceBookItem, TaxRate, User, Visit
from core.recurrence import Rule

FIRST = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Priya", "Mateo", "Hana", "Omar", "Grace",
         "Lucas", "Sofia", "Kwame", "Elena", "Ravi", "Chloe", "Diego", "Aisha", "Owen", "Mei", "Jonah"]
LAST = ["Nguyen", "Garcia", "Okafor", "Smith", "Kowalski", "Haddad", "Johansson", "Patel", "Reyes",
        "Brooks", "Tanaka", "Müller", "O'Brien", "Silva", "Cohen", "Ward", "Fischer", "Mendoza"]
COMPANIES = ["Maple Street Dental", "Riverside Apartments", "Blue Heron Café", "Oakridge HOA",
             "Summit Fitness", "Corner Books & Co.", "Harbor View Motel", "Lakeside Montessori",
             "Pine & Ember Bistro", "Northgate Office Park"]
STREETS = ["Maple Ave", "Oak St", "Cedar Ln", "Elm Dr", "Birch Rd", "Willow Way", "Spruce Ct",
           "Aspen Pl", "Juniper St", "Hawthorn Blvd"]
CITIES = [("Springfield", "IL", "627"), ("Madison", "WI", "537"), ("Ann Arbor", "MI", "481"),
          ("Boulder", "CO", "803"), ("Asheville", "NC", "288")]
AREA_CODES = ["217", "608", "734", "303", "828"]
TAGS = ["residential", "commercial", "vip", "referral", "weekly", "pets-on-site"]

# price book: name, unit, cents, taxed?
ITEMS = [
    ("Lawn mowing", "visit", 4500, True),
    ("Hedge trimming", "hour", 6500, True),
    ("Gutter cleaning", "each", 15000, True),
    ("Mulch (installed)", "bag", 650, True),
    ("Spring clean-up", "each", 22000, True),
    ("Fertiliser treatment", "each", 8000, True),
    ("Window washing", "pane", 1200, False),
    ("Labour", "hour", 5500, False),
]


def seed_demo(db: Database, *, clients: int = 40, today: dt.date | None = None) -> None:
    """Fill ``db`` with a sample business. Safe to call on an empty database only."""
    today = today or dt.date.today()
    rnd = random.Random(20261126)
    if not business.is_set_up(db):
        business.update(db, "business", {
            "name": "Green Thumb Lawn & Home", "address": "120 Market St\nSpringfield, IL 62701",
            "phone": "+1 217 555 0100", "email": "office@greenthumb.example", "tax_id": "36-1234567",
        })
    # Seeding again (``demo --force``) adds clients and reuses the catalogue and staff.
    state_tax = _existing(db, TaxRate, "IL state sales tax") or catalog.create_tax_rate(
        db, catalog.TaxRateData("IL state sales tax", "6.25"))
    city_tax = _existing(db, TaxRate, "Springfield city tax") or catalog.create_tax_rate(
        db, catalog.TaxRateData("Springfield city tax", "2.5"))
    business.update(db, "defaults", {"tax_rate_id": state_tax})
    owner = _existing(db, User, "Sam Rivera") or staff.create_user(
        db, staff.UserData("Sam Rivera", role="owner", email="sam@greenthumb.example"))
    techs = [
        _existing(db, User, name) or staff.create_user(db, staff.UserData(name, email=email))
        for name, email in (("Alex Kim", "alex@greenthumb.example"),
                            ("Jordan Patel", "jordan@greenthumb.example"))
    ]
    items = []
    for name, unit, cents, taxed in ITEMS:
        item_id = _existing(db, PriceBookItem, name) or catalog.create_item(
            db, catalog.PriceBookItemData(name=name, unit=unit, unit_price_cents=cents,
                                          tax_rate_id=state_tax if taxed else None))
        items.append((item_id, name, cents, taxed))

    def pick_lines(k: int) -> list[LineData]:
        out = []
        for item_id, name, cents, taxed in rnd.sample(items, k):
            qty = rnd.choice(["1", "2", "3", "1.5", "4", "10"])
            rate = (city_tax if rnd.random() < 0.3 else state_tax) if taxed else None
            out.append(LineData(description=name, quantity=Decimal(qty), unit_price_cents=cents,
                                tax_rate_id=rate, price_book_item_id=item_id))
        return out

    for i in range(clients):
        cid, service_address = _client(db, rnd, i)
        story = i % 8
        ago = dt.timedelta
        if story == 0:  # a draft proposal being written
            proposals.create_proposal(db, proposals.ProposalData(
                client_id=cid, address_id=service_address, title="Spring clean-up quote",
                lines=pick_lines(2)), today=today)
        elif story == 1:  # sent, waiting for an answer
            pid = proposals.create_proposal(db, proposals.ProposalData(
                client_id=cid, address_id=service_address, title="Gutter and hedge work",
                lines=pick_lines(3), discount_kind="percent", discount_value="5"), today=today - ago(6))
            proposals.send_proposal(db, pid, today=today - ago(6))
        elif story == 2:  # approved with a deposit → job done → invoiced and paid
            pid = proposals.create_proposal(db, proposals.ProposalData(
                client_id=cid, address_id=service_address, title="Backyard renovation",
                lines=pick_lines(3), deposit_kind="percent", deposit_value="25"), today=today - ago(50))
            proposals.send_proposal(db, pid, today=today - ago(50))
            proposals.approve_proposal(db, pid, today=today - ago(47))
            job_id = proposals.convert_to_job(db, pid, today=today - ago(47))
            deposit = _draft_invoices(db, job_id)
            for inv_id in deposit:
                invoices.issue(db, inv_id, today - ago(46))
                _pay_in_full(db, inv_id, "check", today - ago(44))
            _schedule_and_complete(db, job_id, today - ago(30), Rule(), techs[0], today)
            inv = invoices.create_from_job(db, job_id)
            invoices.issue(db, inv, today - ago(28))
            _pay_in_full(db, inv, "bank", today - ago(10))
        elif story == 3:  # declined
            pid = proposals.create_proposal(db, proposals.ProposalData(
                client_id=cid, title="Weekly mowing, full season", lines=pick_lines(1)),
                today=today - ago(40))
            proposals.send_proposal(db, pid, today=today - ago(40))
            proposals.decline_proposal(db, pid, reason="Went with a neighbour's kid", today=today - ago(35))
        elif story == 4:  # sent long ago: expired (derived), plus a changes-requested revision
            pid = proposals.create_proposal(db, proposals.ProposalData(
                client_id=cid, title="Window washing, all floors", lines=pick_lines(1),
                valid_until=today - ago(20)), today=today - ago(60))
            proposals.send_proposal(db, pid, today=today - ago(60))
            other = proposals.create_proposal(db, proposals.ProposalData(
                client_id=cid, title="Mulch beds", lines=pick_lines(2)), today=today - ago(9))
            proposals.send_proposal(db, other, today=today - ago(9))
            proposals.request_changes(db, other, "Please quote cedar mulch instead", today=today - ago(7))
        elif story == 5:  # recurring mowing every 2 weeks: past visits done, invoice partly paid
            job_id = jobs.create_job(db, jobs.JobData(
                client_id=cid, address_id=service_address, title="Lawn mowing every other week",
                lines=[LineData("Lawn mowing", Decimal(1), 4500, state_tax, price_book_item_id=items[0][0])]))
            _schedule_and_complete(db, job_id, today - ago(42),
                                   Rule(kind="every_n_weeks", interval=2, count=8), techs[1], today)
            inv = invoices.create_from_job(db, job_id, allow_incomplete=True)
            invoices.issue(db, inv, today - ago(12))
            total = invoices.get(db, inv).total_cents
            payments.record_payment(db, inv, total // 2, "card", today - ago(5), reference="Visa 4242")
        elif story == 6:  # one-off job done, invoice overdue
            job_id = jobs.create_job(db, jobs.JobData(
                client_id=cid, address_id=service_address, title="Storm damage clean-up",
                lines=pick_lines(2)))
            _schedule_and_complete(db, job_id, today - ago(80), Rule(), techs[i % 2], today)
            inv = invoices.create_from_job(db, job_id)
            invoices.issue(db, inv, today - ago(75 if i % 16 == 6 else 40))
        else:  # story 7: job in progress with an upcoming visit, and a draft invoice
            job_id = jobs.create_job(db, jobs.JobData(
                client_id=cid, address_id=service_address, title="Hedge and gutter service",
                lines=pick_lines(2)))
            jobs.schedule_visits(db, job_id, jobs.ScheduleData(
                start_date=today + ago(days=1 + i % 5), start_time=dt.time(9 + i % 6, 0),
                duration_minutes=120, assignee_id=techs[i % 2]))
            invoices.create_blank(db, cid, pick_lines(1), notes="Extra work agreed on site")
        # tasks: one overdue, one today, one upcoming, spread over clients
        due = today + ago(days=(i % 3) - 1)
        tasks.create_task(db, tasks.TaskData(
            title=rnd.choice(["Call back about quote", "Order mulch", "Check gate code",
                              "Send photos of finished work", "Follow up on payment"]),
            due_date=due, priority=rnd.choice(["low", "normal", "high"]),
            assignee_id=rnd.choice([owner, *techs]), linked_type="client", linked_id=cid))


def _client(db: Database, rnd: random.Random, i: int) -> tuple[int, int]:
    company = i % 4 == 3
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    name = COMPANIES[(i // 4) % len(COMPANIES)] if company else f"{first} {last}"
    if company and i >= 4 * len(COMPANIES):
        name = f"{name} #{i // (4 * len(COMPANIES)) + 1}"
    city, region, zip3 = rnd.choice(CITIES)
    area = AREA_CODES[CITIES.index((city, region, zip3))]
    ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    slug = "".join(c for c in ascii_name.lower() if c.isalnum() or c == ".")
    status = "lead" if i % 10 == 9 else "active"
    contacts = [clients.ContactData(
        name=f"{first} {last}", email=f"{slug}{i}@example.com",
        phone=f"({area}) 555-01{i % 100:02d}", role="Owner" if company else "",
        is_primary=True, sms_consent=rnd.random() < 0.7)]
    if company:
        f2 = rnd.choice(FIRST)
        contacts.append(clients.ContactData(name=f"{f2} {rnd.choice(LAST)}", role="Accounts payable",
                                            email=f"ap{i}@example.com"))
    street = f"{rnd.randint(10, 9999)} {rnd.choice(STREETS)}"
    zip_code = f"{zip3}{rnd.randint(0, 99):02d}"
    addresses = [
        clients.AddressData(kind="billing", line1=street, city=city, region=region, postal_code=zip_code),
        clients.AddressData(kind="service", label="Home" if not company else "Main site",
                            line1=street, city=city, region=region, postal_code=zip_code),
    ]
    if i % 5 == 0:
        addresses.append(clients.AddressData(
            kind="service", label="Rental", line1=f"{rnd.randint(10, 999)} {rnd.choice(STREETS)}",
            city=city, region=region, postal_code=zip_code))
    tags = rnd.sample(TAGS, rnd.randint(0, 2)) + (["commercial"] if company else [])
    cid = clients.create_client(db, clients.ClientData(
        name=name, kind="company" if company else "person", company_name=name if company else "",
        status=status, tags=tags,
        notes="Dog in the back yard; use side gate." if i % 6 == 0 else "",
        custom_fields={"Gate code": f"{rnd.randint(1000, 9999)}"} if i % 3 == 0 else {},
    ), contacts, addresses)
    with db.read() as s:
        service = s.scalars(select(Address.id).where(
            Address.client_id == cid, Address.kind == "service").order_by(Address.id).limit(1)).one()
    return cid, service


def _existing(db: Database, model: type, name: str) -> int | None:
    with db.read() as s:
        return s.scalar(select(model.id).where(model.name == name).limit(1))  # type: ignore[attr-defined]


def _draft_invoices(db: Database, job_id: int) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(Invoice.id).where(Invoice.job_id == job_id, Invoice.status == "draft")))


def _pay_in_full(db: Database, invoice_id: int, method: str, on: dt.date) -> None:
    balance = invoices.get(db, invoice_id).balance_cents
    if balance > 0:
        payments.record_payment(db, invoice_id, balance, method, on, reference="demo")


def _schedule_and_complete(db: Database, job_id: int, start: dt.date, rule: Rule, tech: int,
                           today: dt.date) -> None:
    """Schedule visits from ``start``; complete the ones already in the past with a log."""
    jobs.schedule_visits(db, job_id, jobs.ScheduleData(
        start_date=start, start_time=dt.time(8, 30), duration_minutes=90, rule=rule, assignee_id=tech))
    with db.read() as s:
        past = s.execute(select(Visit.id, Visit.starts_at).where(
            Visit.job_id == job_id, Visit.status == "scheduled").order_by(Visit.starts_at)).all()
    for visit_id, starts_at in past:
        if starts_at.date() >= today:
            break
        jobs.complete_visit(db, visit_id, jobs.ServiceLogData(
            minutes_spent=85, notes="Work done as agreed. Cleaned up clippings.",
            materials="2 bags of mulch" if visit_id % 2 else "", technician_id=tech,
            logged_on=starts_at.date()), today=starts_at.date())
