"""The search index: one row per searchable thing, kept in sync by database triggers.

SQLite: an FTS5 table ``search_fts`` (unicode61 tokenizer, prefix indexes for 2 and 3
characters). PostgreSQL: a table ``search_index`` with a ``tsvector`` column under a GIN
index (the 'simple' configuration, punctuation turned into spaces first, so both backends
split ``jane@example.com`` and ``INV-0042`` the same way).

Triggers do the syncing, so every writer (services, imports, the benchmark's bulk loader)
keeps the index right. Alembic batch mode drops triggers when it rebuilds a SQLite table:
a migration that alters one of these tables must call :func:`create_statements` again
(``tests/test_migrations.py`` checks that every trigger exists at head).

The row key is ``row id * 8 + kind code`` so a trigger can delete by key. ``ref_id`` is the
record a hit opens: the row itself, except a credit note, whose hit opens the invoice it
credits (where its amount and reason are shown), so its ``ref_id`` is that invoice's id.

Credit notes were added by revision 0005 (which also widened PostgreSQL's ``kind`` column for
the name ``credit_note``); the earlier revisions build the index from this module as it is
now, so 0005 re-creates the credit-note triggers and rows (``kinds=``) to be sure.
"""

from __future__ import annotations

from collections.abc import Iterable

# kind -> (code, table, label expression, terms expression, client id expression, condition)
SOURCES: dict[str, tuple[int, str, str, str, str, str | None]] = {
    "client": (1, "clients", "{r}.name", "{r}.company_name", "{r}.id", None),
    "contact": (
        2,
        "contacts",
        "{r}.name",
        "{r}.email || ' ' || {r}.phone || ' ' || {r}.phone_national || ' ' || {r}.role",
        "{r}.client_id",
        None,
    ),
    "address": (
        3,
        "addresses",
        "{r}.line1",
        "{r}.line2 || ' ' || {r}.city || ' ' || {r}.region || ' ' || {r}.postal_code",
        "{r}.client_id",
        None,
    ),
    "proposal": (4, "proposals", "{r}.number", "{r}.title", "{r}.client_id", "{r}.number IS NOT NULL"),
    "job": (5, "jobs", "{r}.number", "{r}.title", "{r}.client_id", None),
    "invoice": (6, "invoices", "{r}.number", "''", "{r}.client_id", "{r}.number IS NOT NULL"),
    "credit_note": (7, "credit_notes", "{r}.number", "''", "{r}.client_id", None),
}
# kind -> the ref_id expression where it is not the row's own id (see the module docstring)
REF_IDS = {"credit_note": "{r}.invoice_id"}
KIND_BY_CODE = {code: kind for kind, (code, *_rest) in SOURCES.items()}
# columns whose change must re-index the row
WATCHED = {
    "clients": "name, company_name",
    "contacts": "name, email, phone, phone_national, role, client_id",
    "addresses": "line1, line2, city, region, postal_code, client_id",
    "proposals": "number, title, client_id",
    "jobs": "number, title, client_id",
    "invoices": "number, client_id",
    "credit_notes": "number, invoice_id, client_id",
}


def _ref(kind: str, r: str) -> str:
    return REF_IDS.get(kind, "{r}.id").format(r=r)


def _kinds(kinds: Iterable[str] | None) -> list[str]:
    if kinds is None:
        return list(SOURCES)
    wanted = set(kinds)  # once: an iterator would be used up by the first kind's test
    return [k for k in SOURCES if k in wanted]


def trigger_names(kinds: Iterable[str] | None = None) -> list[str]:
    names = []
    for kind in _kinds(kinds):
        names += [f"trg_search_{kind}_ins", f"trg_search_{kind}_upd", f"trg_search_{kind}_del"]
    return names


def _sqlite(kind: str) -> list[str]:
    code, table, label, terms, client, cond = SOURCES[kind]
    def ins(r: str) -> str:
        return (
            f"INSERT INTO search_fts(rowid, label, terms, kind, ref_id, client_id) VALUES "
            f"({r}.id * 8 + {code}, {label.format(r=r)}, {terms.format(r=r)}, '{kind}', "
            f"{_ref(kind, r)}, {client.format(r=r)});"
        )

    delete = f"DELETE FROM search_fts WHERE rowid = OLD.id * 8 + {code};"
    when_new = f" WHEN {cond.format(r='NEW')}" if cond else ""
    upd_ins = f"INSERT INTO search_fts(rowid, label, terms, kind, ref_id, client_id) SELECT NEW.id * 8 + {code}, {label.format(r='NEW')}, {terms.format(r='NEW')}, '{kind}', {_ref(kind, 'NEW')}, {client.format(r='NEW')}"
    upd_ins += f" WHERE {cond.format(r='NEW')};" if cond else ";"
    return [
        f"CREATE TRIGGER trg_search_{kind}_ins AFTER INSERT ON {table}{when_new} BEGIN {ins('NEW')} END",
        f"CREATE TRIGGER trg_search_{kind}_upd AFTER UPDATE OF {WATCHED[table]} ON {table} "
        f"BEGIN {delete} {upd_ins} END",
        f"CREATE TRIGGER trg_search_{kind}_del AFTER DELETE ON {table} BEGIN {delete} END",
    ]


PG_TSV = (
    "to_tsvector('simple', regexp_replace(tssg_fold(coalesce({label}, '') || ' ' || coalesce({terms}, '')),"
    " '[^[:alnum:]]+', ' ', 'g'))"
)

# tssg_fold(text): lower-case and, where the unaccent extension can be created (it ships with
# PostgreSQL and is a trusted extension), without diacritics, like SQLite's remove_diacritics.
PG_FOLD_FUNCTION = """
DO $do$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
  EXCEPTION WHEN others THEN
    NULL;
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
    EXECUTE 'CREATE OR REPLACE FUNCTION tssg_fold(t text) RETURNS text LANGUAGE sql STABLE '
            'AS $f$ SELECT unaccent(lower(t)) $f$';
  ELSE
    EXECUTE 'CREATE OR REPLACE FUNCTION tssg_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE '
            'AS $f$ SELECT lower(t) $f$';
  END IF;
END
$do$"""


def _postgres(kind: str) -> list[str]:
    code, table, label, terms, client, cond = SOURCES[kind]
    lab, ter, cli = label.format(r="NEW"), terms.format(r="NEW"), client.format(r="NEW")
    tsv = PG_TSV.format(label=lab, terms=ter)
    guard = f"IF {cond.format(r='NEW')} THEN" if cond else "IF TRUE THEN"
    fn = f"""
CREATE OR REPLACE FUNCTION search_sync_{kind}() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM search_index WHERE rowkey = OLD.id * 8 + {code};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {guard}
      INSERT INTO search_index(rowkey, kind, ref_id, client_id, label, terms, tsv)
      VALUES (NEW.id * 8 + {code}, '{kind}', {_ref(kind, "NEW")}, {cli}, coalesce({lab}, ''), coalesce({ter}, ''), {tsv});
    END IF;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""
    return [
        fn,
        f"CREATE TRIGGER trg_search_{kind}_ins AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION search_sync_{kind}()",
        f"CREATE TRIGGER trg_search_{kind}_upd AFTER UPDATE OF {WATCHED[table]} ON {table} FOR EACH ROW EXECUTE FUNCTION search_sync_{kind}()",
        f"CREATE TRIGGER trg_search_{kind}_del AFTER DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION search_sync_{kind}()",
    ]


def create_table_statements(dialect: str, *, detail: str = "none") -> list[str]:
    """The index table. On SQLite ``detail`` is FTS5's: revision 0002 made it ``full``
    (positions kept for every token); 0004 rebuilt it with ``none``, which is all that
    prefix terms joined by AND need: the doclists hold row ids only, a third of the size,
    and two half-typed words intersect 20x faster (search p95 33 ms -> under 2 ms on 1M
    clients). Phrase, NEAR and column queries, ``highlight`` and ``bm25`` are not used."""
    if dialect == "sqlite":
        return [
            "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
            "label, terms, kind UNINDEXED, ref_id UNINDEXED, client_id UNINDEXED, "
            # prefix indexes up to 6 characters: a typed prefix reads one index entry instead
            # of merging the doclist of every word it begins (p95 41 ms -> 0.4 ms on 1M clients)
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6'"
            + ("" if detail == "full" else f", detail = {detail}") + ")"
        ]
    return [
        PG_FOLD_FUNCTION,
        "CREATE TABLE IF NOT EXISTS search_index (rowkey BIGINT PRIMARY KEY, kind VARCHAR(20) NOT NULL,"
        " ref_id INTEGER NOT NULL, client_id INTEGER, label TEXT NOT NULL, terms TEXT NOT NULL,"
        " tsv TSVECTOR NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ix_search_index_tsv ON search_index USING GIN (tsv)",
    ]


def create_trigger_statements(dialect: str, kinds: Iterable[str] | None = None) -> list[str]:
    out: list[str] = []
    for kind in _kinds(kinds):
        out += _sqlite(kind) if dialect == "sqlite" else _postgres(kind)
    return out


def drop_trigger_statements(dialect: str, kinds: Iterable[str] | None = None) -> list[str]:
    out = []
    for kind in _kinds(kinds):
        table = SOURCES[kind][1]
        for suffix in ("ins", "upd", "del"):
            if dialect == "sqlite":
                out.append(f"DROP TRIGGER IF EXISTS trg_search_{kind}_{suffix}")
            else:
                out.append(f"DROP TRIGGER IF EXISTS trg_search_{kind}_{suffix} ON {table}")
        if dialect != "sqlite":
            out.append(f"DROP FUNCTION IF EXISTS search_sync_{kind}()")
    return out


def drop_statements(dialect: str) -> list[str]:
    out = drop_trigger_statements(dialect)
    out.append("DROP TABLE IF EXISTS search_fts" if dialect == "sqlite" else "DROP TABLE IF EXISTS search_index")
    if dialect != "sqlite":
        out.append("DROP FUNCTION IF EXISTS tssg_fold(text)")
    return out


def rebuild_statements(dialect: str, kinds: Iterable[str] | None = None) -> list[str]:
    """Refill the index from the source tables (after a bulk load without triggers): all of
    it, or the rows of ``kinds`` only."""
    table = "search_fts" if dialect == "sqlite" else "search_index"
    out = [f"DELETE FROM {table}"]
    if kinds is not None:
        names = ", ".join(f"'{k}'" for k in _kinds(kinds))  # names from SOURCES, not input
        out = [f"DELETE FROM {table} WHERE kind IN ({names})"] if names else []
    for kind in _kinds(kinds):
        code, src, label, terms, client, cond = SOURCES[kind]
        where = f" WHERE {cond.format(r=src)}" if cond else ""
        lab, ter, cli = label.format(r=src), terms.format(r=src), client.format(r=src)
        ref = _ref(kind, src)
        if dialect == "sqlite":
            out.append(
                f"INSERT INTO search_fts(rowid, label, terms, kind, ref_id, client_id) "
                f"SELECT {src}.id * 8 + {code}, {lab}, {ter}, '{kind}', {ref}, {cli} FROM {src}{where}"
            )
        else:
            out.append(
                f"INSERT INTO search_index(rowkey, kind, ref_id, client_id, label, terms, tsv) "
                f"SELECT {src}.id * 8 + {code}, '{kind}', {ref}, {cli}, coalesce({lab}, ''), "
                f"coalesce({ter}, ''), {PG_TSV.format(label=lab, terms=ter)} FROM {src}{where}"
            )
    return out
