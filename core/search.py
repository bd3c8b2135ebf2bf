"""Search as you type over clients, contacts (name, email, phone), addresses and document
numbers, through the trigger-maintained index of :mod:`core.search_schema`.

What the user typed is split into words; each becomes a prefix term and all must match
(``jan 415`` finds Jane whose phone starts 415). User text never reaches the query
language unescaped: only letters and digits survive, each term is quoted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy is imported by search() itself: the first screen needs only terms()
    from core.db import Database

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
KIND_ORDER = {"client": 0, "contact": 1, "address": 2, "invoice": 3, "credit_note": 4,
              "proposal": 5, "job": 6}
MAX_TERMS = 8


@dataclass(frozen=True)
class SearchHit:
    kind: str  # client | contact | address | proposal | job | invoice | credit_note
    ref_id: int  # the record to open; a credit note's is the invoice it credits
    client_id: int | None
    label: str
    detail: str
    client_name: str = ""  # whose record it is ("" for none)


_PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")


def fold(text: str) -> str:
    """Lower-case without diacritics, as the index stores it (Zoë → zoe)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def terms(query: str) -> list[str]:
    """The prefix terms of what was typed. A phone number typed with punctuation
    ("(415) 555-26") becomes one digit run, matching the indexed national/E.164 digits."""
    if _PHONE_LIKE.match(query) and sum(c.isdigit() for c in query) >= 3:
        return ["".join(c for c in query if c.isdigit())]
    return [t for t in _TOKEN.findall(fold(query))][:MAX_TERMS]


def email_needle(query: str) -> tuple[list[str], str] | None:
    """An e-mail address being typed ("kelly.hicks@inbox.exa"): the words before the ``@``
    to match in the index, and the whole of it, lower-cased, to find in the row's text.

    Every address shares its domain's words ("example", "inbox") with a large part of the
    index; asking for them makes the index intersect huge lists (45-60 ms on 1M clients).
    The words before the ``@`` narrow it to a few rows, which the text test then checks."""
    text = query.strip()
    # SQLite's lower() folds ASCII letters only: other addresses take the word-by-word path
    if "@" not in text or not text.isascii() or any(ch.isspace() for ch in text):
        return None
    local = terms(text.split("@", 1)[0])
    if not local:
        return None
    return local, text.lower()


def search(db: Database, query: str, *, limit: int = 20, kinds: tuple[str, ...] | None = None) -> list[SearchHit]:
    """The hits for what was typed, each with the name of the client it belongs to.

    One statement, sent straight to the driver (:meth:`Database.read_rows`): this runs on
    every keystroke, and a SQLAlchemy session, its ``BEGIN`` and a second statement for the
    names had cost three times what the index needs to answer."""
    email = email_needle(query)
    words = email[0] if email else terms(query)
    if not words:
        return []
    sqlite = db.is_sqlite

    def bind(name: str, value: object) -> str:  # the driver's placeholder for a parameter
        params[name] = value
        return f":{name}" if sqlite else f"%({name})s"

    params: dict[str, object] = {}
    where = []
    if sqlite:
        where.append("search_fts MATCH " + bind("q", " ".join('"' + w.replace('"', '""') + '"*'
                                                              for w in words)))
    else:
        where.append("s.tsv @@ to_tsquery('simple', tssg_fold("
                     + bind("q", " & ".join(f"{w}:*" for w in words)) + "))")
    if kinds is not None:
        names = [k for k in kinds if k in KIND_ORDER]
        if not names:
            return []  # no kind asked for exists
        where.append("s.kind IN (" + ", ".join(bind(f"k{i}", k) for i, k in enumerate(names)) + ")")
    if email:
        needle = bind("needle", email[1])
        where.append(f"instr(lower(s.terms), {needle}) > 0" if sqlite
                     else f"strpos(lower(s.terms), {needle}) > 0")
    table = "search_fts" if sqlite else "search_index"
    sql = (
        "SELECT s.kind, s.ref_id, s.client_id, s.label, s.terms, c.name "  # noqa: S608 - constant parts, values bound
        f"FROM {table} AS s LEFT JOIN clients AS c ON c.id = s.client_id "
        f"WHERE {' AND '.join(where)} LIMIT {bind('n', max(1, min(limit, 200)))}"
    )
    rows = db.read_rows(sql, params)
    hits = [SearchHit(r[0], int(r[1]), None if r[2] is None else int(r[2]), r[3] or "",
                      " ".join((r[4] or "").split()), r[5] or "") for r in rows]
    hits.sort(key=lambda h: (KIND_ORDER.get(h.kind, 9), h.label.lower(), h.ref_id))
    return hits
