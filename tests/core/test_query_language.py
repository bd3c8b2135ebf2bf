"""The structured query language: what the validator refuses (and says), that values never
reach the SQL text, that execution is read-only and confined to the whitelist, and that the
derived fields mean what the rest of the app means by them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from core import clients, invoices, lists, payments, proposals, tasks
from core.errors import ValidationError
from core.models import Client, Invoice, Proposal, Task
from core.query import (
    ENTITIES,
    MAX_LIMIT,
    TOP_LEVEL,
    compile_query,
    parse_query,
    read_only_connection,
    relative_date,
    run_query,
    schema_text,
    validate_query,
)
from core.query.schema import BUCKETS, DATE, DATETIME, GROUPABLE
from tests.core.factories import line, make_client
from tests.core.query_world import world_fixture

TODAY = dt.date(2026, 3, 10)


def check(query: Any) -> Any:
    return validate_query(query, today=TODAY)


def refused(query: Any) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        check(query)
    return err.value


# --------------------------------------------------------------------------- the validator

REFUSALS = [
    ({"entity": "audit_events"}, "entity", "'audit_events' is not something a query can read"),
    ({"entity": "settings"}, "entity", "entities: clients, contacts"),
    ({"entity": "users"}, "entity", "is not something a query can read"),
    ({"entity": "staff"}, "entity", "is not something a query can read"),
    ({"entity": "alembic_version"}, "entity", "is not something"),
    ({"entity": "search_fts"}, "entity", "is not something"),
    ({"entity": "number_sequences"}, "entity", "is not something"),
    ({}, "entity", "is required"),
    ({"entity": "invoices", "sql": "SELECT 1"}, "query", "unknown key 'sql'; allowed: entity"),
    ({"entity": "invoices", "fields": ["amount"]}, "fields[0]",
     "invoices have no field 'amount'; fields: id, number"),
    ({"entity": "invoices", "fields": ["customer.name"]}, "fields[0]",
     "no related record 'customer' (in 'customer.name'); related: client, job"),
    ({"entity": "invoices", "fields": ["client.secret"]}, "fields[0]",
     "client (clients) has no field 'secret'; fields: id, name"),
    ({"entity": "payments", "fields": ["invoice.client.name"]}, "fields[0]",
     "goes more than one step"),
    ({"entity": "visits", "fields": ["assignee.email"]}, "fields[0]",
     "assignee (staff) has no field 'email'; fields: id, name"),
    ({"entity": "invoices", "where": [{"field": "status", "op": "like", "value": "x"}]},
     "where[0].op", "'like' is not an operator; operators: eq, ne, lt"),
    ({"entity": "invoices", "where": [{"field": "total", "op": "contains", "value": "1"}]},
     "where[0].op", "contains does not apply to total (money); use one of: eq, ne, lt"),
    ({"entity": "invoices", "where": [{"field": "status", "op": "eq", "value": "unpaid"}]},
     "where[0].value", "'unpaid' is not a status; one of: draft, issued, partially_paid"),
    ({"entity": "invoices", "where": [{"field": "balance", "op": "gt", "value": "5.001"}]},
     "where[0].value", "has more than two decimal places"),
    ({"entity": "invoices", "where": [{"field": "balance", "op": "gt", "value": 5.5}]},
     "where[0].value", 'takes an amount like "500"'),
    ({"entity": "invoices", "where": [{"field": "balance", "op": "gt", "value": "lots"}]},
     "where[0].value", 'takes an amount like "500"'),
    ({"entity": "invoices", "where": [{"field": "days_overdue", "op": "gt", "value": "sixty"}]},
     "where[0].value", "takes a whole number, not 'sixty'"),
    ({"entity": "invoices", "where": [{"field": "due_date", "op": "lt", "value": "last tuesday"}]},
     "where[0].value", "'last tuesday' is not a date; use an ISO date"),
    ({"entity": "invoices", "where": [{"field": "due_date", "op": "between", "value": ["today"]}]},
     "where[0].value", "between takes exactly two values"),
    ({"entity": "invoices", "where": [{"field": "due_date", "op": "between",
                                       "value": ["today", "-1d"]}]},
     "where[0].value", "the first value is after the second"),
    ({"entity": "invoices", "where": [{"field": "number", "op": "is_null", "value": "yes"}]},
     "where[0].value", "is_null takes true"),
    ({"entity": "invoices", "where": [{"field": "number", "op": "in", "value": []}]},
     "where[0].value", "in takes 1 to 100 values"),
    ({"entity": "invoices", "where": [{"field": "number", "op": "eq"}]},
     "where[0].value", "is required for eq"),
    ({"entity": "invoices", "where": ["status = 'paid'"]}, "where[0]", "must be an object"),
    ({"entity": "invoices", "where": {"field": "status"}}, "where", "must be a list"),
    ({"entity": "invoices", "limit": 10_000_000}, "limit",
     f"10,000,000 is more than the {MAX_LIMIT:,} rows a query may return"),
    ({"entity": "invoices", "limit": 0}, "limit", "must be at least 1"),
    ({"entity": "invoices", "limit": "all"}, "limit", "must be a whole number"),
    ({"entity": "invoices", "aggregate": [{"fn": "median", "field": "total"}]},
     "aggregate[0].fn", "'median' is not an aggregate function; one of: count, sum"),
    ({"entity": "invoices", "aggregate": [{"fn": "sum", "field": "number"}]},
     "aggregate[0].field", "sum does not apply to number (text)"),
    ({"entity": "invoices", "aggregate": [{"fn": "sum"}]}, "aggregate[0].field", "needs a field"),
    ({"entity": "invoices", "aggregate": [{"fn": "count", "as": "DROP TABLE"}]},
     "aggregate[0].as", "lowercase letters"),
    ({"entity": "invoices", "fields": ["number"], "aggregate": [{"fn": "count"}]}, "fields",
     "cannot be combined with aggregate"),
    ({"entity": "invoices", "group_by": [{"field": "total"}]}, "group_by[0].field",
     "cannot group by total (money)"),
    ({"entity": "invoices", "group_by": [{"field": "status", "bucket": "month"}]},
     "group_by[0].bucket", "buckets apply to dates"),
    ({"entity": "invoices", "group_by": [{"field": "issue_date", "bucket": "quarter"}]},
     "group_by[0].bucket", "'quarter' is not a bucket; one of: day, week, month, year"),
    ({"entity": "invoices", "group_by": [{"field": "paid_at"}]}, "group_by[0].bucket",
     "is a date and time: give a bucket"),
    ({"entity": "invoices", "group_by": ["status"], "sort": [{"field": "total"}]},
     "sort[0].field", "sort a summary by one of its columns: status, count"),
    ({"entity": "invoices", "aggregate": [{"fn": "count", "as": "n"}, {"fn": "count", "as": "n"}]},
     "aggregate", "'n' appears twice"),
    ({"entity": "clients", "sort": [{"field": "tags"}]}, "sort[0].field", "cannot sort by tags"),
    ({"entity": "invoices", "sort": [{"field": "total", "dir": "down"}]}, "sort[0].dir",
     "'down' is not a direction"),
    ("[1, 2]", "query", "must be a JSON object"),
    ('{"entity": "invoices",', "query", "is not valid JSON (Expecting"),
    ("", "query", "is empty"),
]


@pytest.mark.parametrize(("query", "field", "words"), REFUSALS,
                         ids=[f"{i}-{r[1]}" for i, r in enumerate(REFUSALS)])
def test_anything_outside_the_whitelist_is_refused_with_a_precise_message(query, field, words):
    err = refused(query)
    assert err.field == field
    assert words in err.message, err.message


def test_a_query_in_the_design_document_is_accepted_and_normalised():
    q = check(parse_query(json.dumps({
        "entity": "invoices", "fields": ["number", "client.name", "balance", "due_date"],
        "where": [{"field": "status", "op": "in", "value": ["issued", "partially_paid"]},
                  {"field": "days_overdue", "op": "gt", "value": 60},
                  {"field": "balance", "op": "gte", "value": 500.5}],
        "sort": [{"field": "balance", "dir": "desc"}], "limit": 50})))
    assert q.as_dict()["where"][2] == {"field": "balance", "op": "gte", "value": "500.50"}
    assert q.where[2].value == 50_050  # cents, from an exact decimal (never a float)
    assert q.limit == 50 and [f.path for f in q.fields][1] == "client.name"


def test_group_by_alone_counts_and_defaults_fill_in():
    q = check({"entity": "jobs", "group_by": ["status"]})
    assert [(a.fn, a.name) for a in q.aggregates] == [("count", "count")]
    assert check({"entity": "invoices"}).limit == 100
    assert [f.path for f in check({"entity": "invoices"}).fields][:3] == ["id", "number", "client.name"]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4000), st.sampled_from(["d", "w", "m", "y"]), st.sampled_from(["+", "-"]),
       st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)))
def test_relative_dates(n, unit, sign, today):
    day = relative_date(f"{sign}{n}{unit}", today)
    k = n if sign == "+" else -n
    if day is None:  # beyond the calendar (year 1 to 9999): refused, not wrapped around
        if unit in ("d", "w"):
            ordinal = today.toordinal() + k * (7 if unit == "w" else 1)
            assert not 1 <= ordinal <= dt.date.max.toordinal()
        else:
            year = (today.year * 12 + today.month - 1 + k * (12 if unit == "y" else 1)) // 12
            assert not 1 <= year <= 9999
        return
    if unit in ("d", "w"):
        assert day == today + dt.timedelta(days=k * (7 if unit == "w" else 1))
    else:
        months = k * (12 if unit == "y" else 1)
        assert (day.year - today.year) * 12 + day.month - today.month == months
        assert day.day == today.day or (day.day < today.day and (day + dt.timedelta(days=1)).day == 1)


def test_named_relative_dates():
    wed = dt.date(2026, 3, 11)
    assert relative_date("today", wed) == wed
    assert relative_date("start_of_week", wed) == dt.date(2026, 3, 9)
    assert relative_date("start_of_month-1m", dt.date(2026, 3, 31)) == dt.date(2026, 2, 1)
    assert relative_date("-1m", dt.date(2026, 3, 31)) == dt.date(2026, 2, 28)
    assert relative_date("start_of_year", wed) == dt.date(2026, 1, 1)
    assert relative_date("yesterday", wed) == dt.date(2026, 3, 10)
    assert relative_date("next friday", wed) is None


# --------------------------------------------------------------------------- bound values

_SHAPES = [
    ("clients", "name", "eq"), ("clients", "notes", "contains"), ("clients", "name", "startswith"),
    ("invoices", "client.name", "ne"), ("clients", "tags", "contains"),
    ("contacts", "email", "in"),
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_SHAPES), st.text(min_size=1, max_size=60))
def test_values_never_reach_the_sql_text(shape, value):
    """The SQL is the same whatever the value: every value is a bound parameter."""
    entity, field, op = shape

    def sql(v: str, dialect: Any) -> str:
        q = check({"entity": entity, "where": [
            {"field": field, "op": op, "value": [v] if op == "in" else v}]})
        return str(compile_query(q, dialect.name).statement.compile(dialect=dialect))

    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert sql(value, dialect) == sql("x", dialect)


def test_naughty_strings_are_values_not_sql(naughty_strings):
    def compiled(value: str) -> Any:
        q = check({"entity": "clients", "fields": ["id"],
                   "where": [{"field": "name", "op": "eq", "value": value}]})
        return compile_query(q, "sqlite").statement.compile(dialect=sqlite.dialect())

    baseline = str(compiled("x"))
    for value in naughty_strings[::3]:  # a third of them keeps the test quick
        if len(value) <= 500:
            sql = compiled(value)
            assert str(sql) == baseline
            assert value in sql.params.values()


# --------------------------------------------------------------------------- on a database


def test_sql_inside_values_is_just_text(db):
    evil = "Robert'); DROP TABLE clients;--"
    make_client(db, evil)
    make_client(db, "100% Pure_Clean")
    make_client(db, "100 Pure Clean")
    rows = run_query(db, {"entity": "clients", "fields": ["name"],
                          "where": [{"field": "name", "op": "eq", "value": evil}]}).rows
    assert rows == [{"name": evil}]
    assert run_query(db, {"entity": "clients", "fields": ["name"], "where": [
        {"field": "name", "op": "contains", "value": "0% pure_"}]}).rows == [{"name": "100% Pure_Clean"}]
    assert run_query(db, {"entity": "clients", "where": [
        {"field": "name", "op": "eq", "value": "x' OR '1'='1"}]}).rows == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 3


def test_the_row_cap_and_truncation(db):
    for n in range(7):
        make_client(db, f"Client {n}")
    result = run_query(db, {"entity": "clients", "fields": ["id"], "limit": 5})
    assert len(result.rows) == 5 and result.truncated
    full = run_query(db, {"entity": "clients", "fields": ["id"], "limit": 7})
    assert len(full.rows) == 7 and not full.truncated
    assert [r["id"] for r in full.rows] == sorted(r["id"] for r in full.rows)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


def test_every_field_of_every_entity_runs_under_the_guard(world):
    """The authorizer's whitelist covers everything the schema can ask for: every field and
    related field, grouping by each field, every date bucket, min and max."""
    db, today = world.db, world.today
    bucketed: set[str] = set()
    for name in TOP_LEVEL:
        entity = ENTITIES[name]
        fields = list(entity.fields)
        for rel_name, rel in entity.relations.items():
            fields += [f"{rel_name}.{f}" for f in ENTITIES[rel.target].fields]
        result = run_query(db, {"entity": name, "fields": fields, "limit": 1000}, today=today)
        assert result.rows, name
        assert set(result.rows[0]) == set(fields)
        ranged = []
        for field in entity.fields.values():
            if field.type in GROUPABLE:
                group: dict[str, Any] = {"field": field.name}
                if field.type == DATETIME:
                    group["bucket"] = "month"
                assert run_query(db, {"entity": name, "group_by": [group]}, today=today).rows
            if field.type in (DATE, DATETIME) and field.type not in bucketed:
                bucketed.add(field.type)  # each bucket once on a date and on a date-time
                for bucket in BUCKETS:
                    run_query(db, {"entity": name, "group_by": [
                        {"field": field.name, "bucket": bucket}]}, today=today)
            if field.type in ("integer", "money", "date", "datetime"):
                ranged += [{"fn": "min", "field": field.name, "as": f"lo_{field.name}"},
                           {"fn": "max", "field": field.name, "as": f"hi_{field.name}"}]
        for i in range(0, len(ranged), 10):
            assert run_query(db, {"entity": name, "aggregate": ranged[i:i + 10]},
                             today=today).rows
    assert bucketed == {DATE, DATETIME}


def test_derived_fields_mean_what_the_app_means(world):
    db, today = world.db, world.today
    rows = run_query(db, {"entity": "invoices", "fields": ["id", "days_overdue", "overdue"],
                          "limit": 1000}, today=today).rows
    with db.read() as s:
        stored = {i.id: i for i in s.scalars(select(Invoice))}
        props = {p.id: p for p in s.scalars(select(Proposal))}
        todo = {t.id: t for t in s.scalars(select(Task))}
    assert any(r["overdue"] for r in rows)
    for r in rows:
        assert r["days_overdue"] == invoices.days_overdue(stored[r["id"]], today)
        assert r["overdue"] == invoices.is_overdue(stored[r["id"]], today)
    for r in run_query(db, {"entity": "proposals", "fields": ["id", "status"]}, today=today).rows:
        assert r["status"] == proposals.effective_status(props[r["id"]], today)
    for r in run_query(db, {"entity": "tasks", "fields": ["id", "overdue"]}, today=today).rows:
        assert r["overdue"] == tasks.is_overdue(todo[r["id"]], today)
    listed = {c.id: c for c in lists.list_clients(db, include_archived=True, limit=1000).rows}
    for r in run_query(db, {"entity": "clients", "fields": ["id", "balance", "email", "phone"]},
                       today=today).rows:
        c = listed[r["id"]]
        assert (Decimal(r["balance"]) * 100, r["email"] or "", r["phone"] or "") == (
            c.balance_cents, c.email, c.phone)


def test_a_derived_field_used_everywhere_in_one_query(world):
    """Fields that depend on today bind it once: selected, filtered, sorted and grouped."""
    db, today = world.db, world.today
    rows = run_query(db, {"entity": "jobs", "fields": ["id", "next_visit", "client.overdue_balance"],
                          "where": [{"field": "next_visit", "op": "gte", "value": "today"},
                                    {"field": "client.overdue_balance", "op": "gte", "value": "0"}],
                          "sort": [{"field": "next_visit"}]}, today=today).rows
    assert rows and all(r["next_visit"] >= today.isoformat() for r in rows)
    groups = run_query(db, {"entity": "invoices", "group_by": ["days_overdue", "overdue"],
                            "where": [{"field": "days_overdue", "op": "gte", "value": 0}],
                            "sort": [{"field": "days_overdue", "dir": "desc"}]}, today=today).rows
    assert groups[0]["days_overdue"] > 0 and groups[0]["overdue"] is True
    assert groups[-1] == {"days_overdue": 0, "overdue": False, "count": groups[-1]["count"]}


def test_results_as_a_table_of_plain_strings(world):
    result = run_query(world.db, {"entity": "clients",
                                  "fields": ["name", "tags", "balance", "created_at"],
                                  "where": [{"field": "tags", "op": "is_null", "value": False}],
                                  "limit": 1}, today=world.today)
    headers, cells = result.table()
    assert headers == ["name", "tags", "balance", "created_at"]
    row = result.rows[0]
    assert cells == [[row["name"], ", ".join(row["tags"]), row["balance"], row["created_at"]]]
    assert all(isinstance(c, str) for c in cells[0])
    assert json.loads(result.to_json()) == result.rows


def test_text_emptiness_dates_and_exact_averages(db):
    cid = clients.create_client(db, clients.ClientData(name="Ann"), [
        clients.ContactData(name="Ann", email=""), clients.ContactData(name="Bo", email="bo@x.io")])
    contacts = run_query(db, {"entity": "contacts", "fields": ["name"],
                              "where": [{"field": "email", "op": "is_null", "value": True}]}).rows
    assert contacts == [{"name": "Ann"}]
    inv = invoices.create_blank(db, cid, [line(unit_price_cents=1)], terms_days=0)
    invoices.issue(db, inv, TODAY)
    inv2 = invoices.create_blank(db, cid, [line(unit_price_cents=2)], terms_days=0)
    invoices.issue(db, inv2, TODAY)
    payments.record_payment(db, inv, 1, "cash", TODAY)
    payments.record_payment(db, inv2, 2, "cash", TODAY)
    avg = run_query(db, {"entity": "payments", "aggregate": [
        {"fn": "avg", "field": "amount", "as": "avg"}, {"fn": "sum", "field": "amount", "as": "sum"},
        {"fn": "avg", "field": "client.id", "as": "avg_id"}]}).rows
    assert avg == [{"avg": "0.02", "sum": "0.03", "avg_id": f"{cid}.00"}]  # 1.5 cents, half up
    with db.read() as s:
        issued_at = s.scalar(select(Invoice.issued_at).where(Invoice.id == inv))
    assert issued_at is not None
    day = issued_at.date().isoformat()
    on_day = run_query(db, {"entity": "invoices", "fields": ["id"], "where": [
        {"field": "paid_at", "op": "eq", "value": day}]}, today=TODAY).rows
    assert {r["id"] for r in on_day} == {inv, inv2}  # a date means the whole day
    assert run_query(db, {"entity": "invoices", "fields": ["id"], "where": [
        {"field": "paid_at", "op": "gt", "value": day}]}).rows == []


# --------------------------------------------------------------------------- read-only


def test_the_read_only_connection_refuses_writes(db):
    make_client(db, "Keep Me")
    for sql in ("DELETE FROM clients", "UPDATE clients SET name = 'x'",
                "INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', '2026-01-01')",
                "DROP TABLE clients"):
        with pytest.raises(DBAPIError), read_only_connection(db) as conn:
            conn.execute(text(sql))
    with db.read() as s:
        assert list(s.scalars(select(Client.name))) == ["Keep Me"]


def test_sqlite_authorizer_denies_everything_outside_the_whitelist(db):
    if not db.is_sqlite:
        pytest.skip("the authorizer is SQLite's; PostgreSQL relies on the compiler's whitelist")
    for sql in ("SELECT * FROM settings", "SELECT count(*) FROM audit_events",
                "SELECT email FROM users", "SELECT * FROM alembic_version",
                "SELECT * FROM number_sequences", "SELECT * FROM search_fts",
                "SELECT name FROM sqlite_master", "PRAGMA table_info(clients)",
                "ATTACH DATABASE ':memory:' AS other", "SELECT load_extension('x')",
                "SELECT custom_fields FROM clients WHERE 0 UNION SELECT value FROM settings"):
        with pytest.raises(DBAPIError) as err, read_only_connection(db) as conn:
            conn.execute(text(sql)).fetchall()
        # FTS5 reads its shadow tables when the virtual table is opened: refused there
        assert any(w in str(err.value) for w in ("not authorized", "prohibited",
                                                   "vtable constructor failed")), sql
    with read_only_connection(db) as conn:  # what the whitelist allows still works
        assert conn.execute(text("SELECT count(*) FROM clients")).scalar() == 0
        assert conn.execute(text("SELECT name FROM users")).fetchall() == []


def test_a_query_that_runs_too_long_is_stopped(db):
    for n in range(12):
        make_client(db, f"C{n}")
    sql = ("SELECT pg_sleep(2)" if not db.is_sqlite else
           "SELECT count(*) FROM clients a, clients b, clients c, clients d, clients e")
    with pytest.raises(DBAPIError) as err, read_only_connection(db, timeout=0.001) as conn:
        conn.execute(text(sql)).fetchall()
    assert "interrupted" in str(err.value) or "statement timeout" in str(err.value)
    if not db.is_sqlite:
        with read_only_connection(db) as conn:
            assert conn.execute(text("SHOW transaction_read_only")).scalar() == "on"
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "10s"


def test_schema_text_names_every_entity_field_and_operator():
    words = schema_text()
    for name in TOP_LEVEL:
        assert f"\n{name}: " in words
        for field in ENTITIES[name].fields.values():
            assert f"  {field.name} (" in words
    for internal in ("audit_events", "settings", "number_sequences", "alembic_version",
                     "search_fts", "search_index"):
        assert internal not in words
    assert "eq ne lt lte gt gte in contains startswith between is_null" in words
