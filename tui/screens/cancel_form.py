"""Escape on a form: close it at once when nothing changed, else ask before the changes are
lost. Shared by the full-screen forms and the form dialogs that keep drafts
(:mod:`tui.drafts`): closing either way ends the form's draft."""

from __future__ import annotations

from typing import Any, Protocol

from tui.screens.confirm import ConfirmScreen


class _Form(Protocol):
    app: Any

    @property
    def is_dirty(self) -> bool: ...

    def draft_finished(self) -> None: ...

    def dismiss(self, result: Any = ...) -> Any: ...


def cancel_form(form: _Form, question: str) -> None:
    """Dismiss ``form`` with None, first asking ``question`` (Discard / Keep editing) when it
    has unsaved changes; keeping on editing leaves the form and its draft as they are."""
    if not form.is_dirty:
        form.draft_finished()
        form.dismiss(None)
        return

    def answered(discard: bool | None) -> None:
        if discard:
            form.draft_finished()
            form.dismiss(None)

    form.app.push_screen(ConfirmScreen(question, yes="Discard", no="Keep editing"), answered)
