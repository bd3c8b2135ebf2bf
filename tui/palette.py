"""Command palette provider for records: type a name, email, phone or number and open the
client it belongs to. Search runs in a thread (the palette awaits it without blocking
the UI); prompts are plain ``Text``, never markup, because they quote client data."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import Hit, Hits, Provider

from core.search import search, terms
from core.text import clean_line
from tui.render import hit_detail

if TYPE_CHECKING:
    from tui.app import CrmApp

KIND_HELP = {
    "client": "Open client",
    "contact": "Open the client of this contact",
    "address": "Open the client at this address",
    "invoice": "Open the client of this invoice",
    "proposal": "Open the client of this proposal",
    "job": "Open the client of this job",
}


class ClientCommands(Provider):
    async def search(self, query: str) -> Hits:
        if not terms(query):
            return
        app = cast("CrmApp", self.app)
        hits = await asyncio.to_thread(search, app.db, query, limit=12)
        matcher = self.matcher(query)
        for rank, hit in enumerate(hits):
            if hit.client_id is None:
                continue
            label = clean_line(hit.label) or "(no name)"
            prompt = Text(f"{label}  ", end="")
            prompt.append(hit_detail(hit.detail)[:60], style="dim")
            # the search already matched; keep its order, nudged by how well the label fits
            score = max(matcher.match(label), 0.5) - rank * 0.001
            yield Hit(score, prompt, partial(app.open_client, hit.client_id),
                      text=label, help=KIND_HELP.get(hit.kind, "Open client"))
