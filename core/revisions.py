"""The schema revisions this build ships, read from the migration files without Alembic or
SQLAlchemy (a normal start checks the database against :func:`head_revision` and goes on)."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def known_revisions() -> dict[str, str | None]:
    """Every revision this build ships, mapped to its parent."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        rev = down = None
        seen_down = False
        with path.open(encoding="utf-8") as lines:
            for line in lines:  # both are near the top: every start reads them (first_look)
                if line.startswith("revision = "):
                    rev = line.split("=", 1)[1].strip().strip("'\"")
                elif line.startswith("down_revision = "):
                    value = line.split("=", 1)[1].strip()
                    down = None if value == "None" else value.strip("'\"")
                    seen_down = True
                if rev and seen_down:
                    break
        if rev:
            revisions[rev] = down
    return revisions


def head_revision() -> str:
    """The newest revision: the one no other revision names as its parent."""
    revisions = known_revisions()
    parents = {d for d in revisions.values() if d}
    heads = [r for r in revisions if r not in parents]
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]
