"""Optional redaction: personal values leave the machine as tokens (``Client-3``,
``Email-1``) and are put back locally in the model's queries, proposals and answer.

What is replaced: in query results, every value of a field the whitelist marks personal
(client, contact and staff names, emails, phones, street lines); in free text (the question,
notes, titles) every value already tokenised in this session, the names of clients, contacts
and staff and the street lines (address line 1 and 2) the text mentions, and anything that
looks like an email address or a phone number. A value is replaced only as a whole word
("Ann" stays inside "Annual"). Tokens are numbered per kind in order of appearance, never
from database ids, and the mapping lives only in memory for the session.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from core.db import Database
from core.models import Address, Client, Contact, User
from core.query import QueryResult

KINDS = ("Client", "Contact", "Staff", "Email", "Phone", "Address")
TOKEN = re.compile(r"\b(" + "|".join(KINDS) + r")-(\d{1,6})\b")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{7,}\d|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4})(?!\w)")
MIN_NAME = 3  # shorter names ("Al") would replace parts of ordinary words


class Redactor:
    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}
        self._values: dict[str, str] = {}
        self._counts: dict[str, int] = dict.fromkeys(KINDS, 0)

    @property
    def mapping(self) -> dict[str, str]:
        """token -> real value (for the screen that shows what was sent)."""
        return dict(self._values)

    def token(self, kind: str, value: str) -> str:
        key = (kind, value.casefold())
        found = self._tokens.get(key)
        if found is None:
            self._counts[kind] += 1
            found = self._tokens[key] = f"{kind}-{self._counts[kind]}"
            self._values[found] = value
        return found

    # ------------------------------------------------------------------ outgoing

    def text(self, text: str) -> str:
        """Known values, emails and phone numbers in free text replaced by tokens."""
        text = _EMAIL.sub(lambda m: self.token("Email", m.group(0)), text)
        text = _PHONE.sub(lambda m: self.token("Phone", m.group(0)), text)
        known = sorted(((value, token) for token, value in self._values.items()
                        if len(value) >= MIN_NAME), key=lambda vt: len(vt[0]), reverse=True)
        for value, token in known:
            text = re.sub(_whole(value), token, text, flags=re.IGNORECASE)
        return text

    def question(self, db: Database, question: str) -> str:
        """The question with the names and street lines it mentions tokenised."""
        self._learn(db, question)
        return self.text(question)

    def rows(self, result: QueryResult, rows: Iterable[dict[str, Any]],
             db: Database | None = None) -> list[dict[str, Any]]:
        """Rows with personal values tokenised; with ``db``, the names and street lines that
        free text (notes, titles) mentions are looked up and tokenised too."""
        rows = list(rows)
        personal = [c for c in result.columns if c.personal]
        free = [c for c in result.columns if c.free_text]
        # personal values first, so free text in the same rows can reuse their tokens
        out = [dict(row) for row in rows]
        for row in out:
            for column in personal:
                value = row.get(column.name)
                if isinstance(value, str) and value:
                    row[column.name] = self.token(column.personal or "Client", value)
        texts = [row[c.name] for row in out for c in free
                 if isinstance(row.get(c.name), str) and row[c.name]]
        if db is not None and texts:  # one lookup for the whole result, not one per cell
            self._learn(db, "\n".join(texts))
        for row in out:
            for column in free:
                value = row.get(column.name)
                if isinstance(value, str) and value:
                    row[column.name] = self.text(value)
        return out

    def _learn(self, db: Database, text: str) -> None:
        """Tokens for the names and street lines ``text`` mentions as whole words."""
        for kind, value in mentioned_names(db, text):
            if re.search(_whole(value), text, flags=re.IGNORECASE):
                self.token(kind, value)

    # ------------------------------------------------------------------ incoming

    def restore(self, value: Any) -> Any:
        """Tokens in a string, or anywhere inside lists and dicts, replaced by real values."""
        if isinstance(value, str):
            return TOKEN.sub(lambda m: self._values.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [self.restore(v) for v in value]
        if isinstance(value, dict):
            return {k: self.restore(v) for k, v in value.items()}
        return value


def _whole(value: str) -> str:
    """``value`` as a pattern that matches only where it is not part of a longer word."""
    pattern = re.escape(value)
    if value[:1].isalnum() or value[:1] == "_":
        pattern = r"(?<!\w)" + pattern
    if value[-1:].isalnum() or value[-1:] == "_":
        pattern += r"(?!\w)"
    return pattern


def mentioned_names(db: Database, text: str) -> list[tuple[str, str]]:
    """(kind, value) of the clients, contacts and staff whose name, and the addresses whose
    street line (line 1 or 2), appears in ``text``."""
    lowered = text.lower()  # Python's lower() knows every alphabet; SQLite's only ASCII
    found: list[tuple[str, str]] = []
    with db.read() as s:
        for kind, column in (("Client", Client.name), ("Client", Client.company_name),
                             ("Contact", Contact.name), ("Staff", User.name),
                             ("Address", Address.line1), ("Address", Address.line2)):
            position = (func.strpos(lowered, func.lower(column))
                        if db.dialect == "postgresql"
                        else func.instr(lowered, func.lower(column)))
            stmt = (select(column).where(func.length(column) >= MIN_NAME, position > 0)
                    .distinct().limit(50))
            found += [(kind, name) for name in s.scalars(stmt)]
    return found
