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
    from sqlalchemy import text

    email = email_needle(query)
    words = email[0] if email else terms(query)
    if not words:
        return []
    limit = max(1, min(limit, 200))
    kind_filter = ""
    params: dict[str, object] = {"n": limit}
    if kinds:
        names = [k for k in kinds if k in KIND_ORDER]
        for i, name in enumerate(names):
            params[f"k{i}"] = name
        kind_filter = " AND kind IN (" + ", ".join(f":k{i}" for i in range(len(names))) + ")"
    if email:
        params["needle"] = email[1]
        kind_filter += (" AND instr(lower(terms), :needle) > 0" if db.is_sqlite
                        else " AND strpos(lower(terms), :needle) > 0")
    if db.is_sqlite:
        params["q"] = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        sql = (
            "SELECT kind, ref_id, client_id, label, terms FROM search_fts "  # noqa: S608 - constant parts, values bound
            f"WHERE search_fts MATCH :q{kind_filter} LIMIT :n"
        )
    else:
        params["q"] = " & ".join(f"{w}:*" for w in words)
        sql = (
            "SELECT kind, ref_id, client_id, label, terms FROM search_index "  # noqa: S608 - constant parts, values bound
            f"WHERE tsv @@ to_tsquery('simple', tssg_fold(:q)){kind_filter} LIMIT :n"
        )
    with db.read() as s:
        rows = s.execute(text(sql), params).all()
    hits = [SearchHit(r[0], int(r[1]), r[2], r[3] or "", " ".join((r[4] or "").split())) for r in rows]
    hits.sort(key=lambda h: (KIND_ORDER.get(h.kind, 9), h.label.lower(), h.ref_id))
    return hits
