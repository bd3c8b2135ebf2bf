"""Time from process start to the first screen, ours next to a bare Textual app, and what the
imports of our start cost.

    python -m bench.startup [--runs 15]

Each run is a new ``python`` process, timed by this one from just before it is spawned to the
moment the child writes a line saying it got there, so interpreter start-up and every import
count, as for a user. The runs of the two apps alternate (a busy machine slows both alike);
the figures are medians.

- **bare Textual**: an ``App`` with one ``Static``, headless, that writes "ready" in
  ``on_ready`` (first screen composed, mounted and drawn once) and exits.
- **ours**: the real entry point, ``tui.cli.main(["--db", FILE])`` (argument parsing,
  config, the migration check, logging, ``CrmApp``) on a migrated SQLite file with the demo
  data, run headless. It writes "ready" from ``CrmApp.on_ready`` (where the app logs
  "started in N ms") and "page" once the client list shows its first page of rows (checked
  every 2 ms), then exits.

Bytecode of our modules is cached in the temporary directory, as an installed app's is (pip
writes .pyc files); one more line shows our start without it (``PYTHONDONTWRITEBYTECODE=1``,
as set in some development containers: every start then compiles ~75 modules again).
Then ``python -X importtime`` of the same start (median self and cumulative microseconds
over a few processes) lists the costliest imports, and the heavy modules are imported one
per process (``python -c "import core.clients"``), less the cost of ``python -c pass``.
Everything runs with ``TSSG_CRM_HOME`` in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE_APP = """
import os
from textual.app import App, ComposeResult
from textual.widgets import Static

class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("Hello")

    def on_ready(self) -> None:
        os.write(1, b"ready\\n")
        self.exit()

Bare().run(headless=True, size=(100, 30))
"""

# The hooks are set on the class before main() runs it; importing tui.app first only moves
# its import cost ahead of argument parsing (main would import it a few lines later).
OUR_APP = """
import os, sys
import tui.app

_on_ready = tui.app.CrmApp.on_ready
_run = tui.app.CrmApp.run

_loaded = tui.app.CrmApp._after_runtime_loaded
state = {"page": False, "open": False}

def on_ready(self):
    _on_ready(self)
    os.write(1, b"ready\\n")
    self.set_interval(0.002, lambda: _page_shown(self))
    if self.loader is None:  # the database was opened before the app (no quick start)
        _opened(self)

def _page_shown(self):
    table = getattr(self.screen, "table", None)
    if not state["page"] and table is not None and table.row_count > 0:
        state["page"] = True
        os.write(1, b"page\\n")
    if state["page"] and state["open"]:
        self.exit(0)

def _opened(self):
    state["open"] = True
    os.write(1, b"open\\n")

def after_runtime_loaded(self, error):
    _loaded(self, error)
    _opened(self)

def run(self, *args, **kwargs):
    kwargs.update(headless=True, size=(100, 30))
    return _run(self, *args, **kwargs)

tui.app.CrmApp.on_ready = on_ready
tui.app.CrmApp._after_runtime_loaded = after_runtime_loaded
tui.app.CrmApp.run = run
from tui.cli import main
sys.exit(main(["--db", sys.argv[1]]))
"""

# The start of the TUI up to its first frame, for -X importtime: the entry point, then what
# run_app imports before the app runs (the database is opened after the first frame).
START_IMPORTS = "import tui.cli, tui.app, core.first_look"

HEAVY_MODULES = [
    "textual.app", "sqlalchemy.orm", "core.models", "core.clients", "core.overview",
    "core.lists", "core.runtime", "tui.cli", "tui.app",
    # what the first screen must not need (design: lazy); imported alone for comparison
    "alembic.command", "stripe", "twilio.rest", "httpx", "cryptography.hazmat.primitives.asymmetric.ed25519",
    "phonenumbers", "psycopg",
]
WATCHED = ["alembic", "stripe", "twilio", "httpx", "cryptography", "phonenumbers", "psycopg",
           "sqlalchemy.dialects.postgresql", "mako"]


def _env(home: Path, *, bytecode_cache: bool = True) -> dict[str, str]:
    """The children's environment. With ``bytecode_cache`` (as for an installed app, whose
    .pyc files pip writes), our modules' bytecode is cached under ``home``, not in the tree;
    without it every start compiles them from source again."""
    env = dict(os.environ)
    env["TSSG_CRM_HOME"] = str(home)
    env.pop("TSSG_CRM_CONFIG", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def timed_start(code: str, args: list[str], env: dict[str, str], marks: tuple[str, ...]) -> dict[str, float]:
    """Seconds from spawning ``python -c code`` until it printed each of ``marks``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None
    seen: dict[str, float] = {}
    for line in proc.stdout:
        mark = line.decode(errors="replace").strip()
        if mark in marks:
            seen[mark] = time.perf_counter() - t0
    _out, err = proc.communicate(timeout=60)
    if proc.returncode != 0 or set(seen) != set(marks):
        raise RuntimeError(f"the timed process failed ({proc.returncode}): {err.decode()[-2000:]}")
    return seen


# the same bare app, on a terminal: it stays up until it is killed
BARE_TERMINAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Static

class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("Hello from a bare app")

Bare().run()
"""
OUR_TERMINAL_APP = "import sys; from tui.cli import main; sys.exit(main(['--db', sys.argv[1]]))"


def first_frame(code: str, args: list[str], env: dict[str, str], needle: bytes) -> float:
    """Seconds from spawning ``python -c code`` on a 100x30 pseudo-terminal until ``needle``
    appears in what it wrote to the terminal (the first frame that shows it); then the
    process is killed. This is what a user sees, drawing included."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    seen = bytearray()
    try:
        deadline = t0 + 60
        while needle not in seen:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{needle!r} never appeared: {bytes(seen[-500:])!r}")
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen.extend(os.read(master, 65536))
                except OSError:  # the child has gone
                    raise RuntimeError(f"the app stopped: {bytes(seen[-500:])!r}") from None
        return time.perf_counter() - t0
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def first_client_name(db_path: Path) -> bytes:
    """The name the client list shows first (its default view's first row)."""
    from core.first_look import first_look

    look = first_look(str(db_path), 1)
    if look is None or not look.clients.rows:
        raise SystemExit(f"{db_path}: no clients, or not at the current schema")
    return look.clients.rows[0].name.encode()


def make_demo_database(home: Path) -> Path:
    """A migrated SQLite file with the demo business, made in a child process so this one
    stays free of the imports it measures."""
    path = home / "startup.sqlite3"
    code = ("import sys; from core.db import Database; from core import migrate, demo; "
            "db = Database(sys.argv[1]); migrate.upgrade(db); demo.seed_demo(db); db.dispose()")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=_env(home), cwd=ROOT)
    return path


def prepare_database(path: Path, home: Path) -> Path:
    """An existing SQLite file, migrated, with a business name (else the first-run screen
    would cover the list), set in a child process."""
    code = ("import sys; from core.db import Database; from core import migrate, business; "
            "db = Database(sys.argv[1]); migrate.upgrade(db); "
            "business.is_set_up(db) or business.update(db, 'business', {'name': 'Benchmark Co'}); "
            "db.dispose()")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=_env(home), cwd=ROOT)
    return path.resolve()


def import_times(env: dict[str, str], runs: int) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Median self and cumulative import microseconds per module over ``runs`` processes, and
    the watched heavy modules the start loaded."""
    selfs: dict[str, list[int]] = defaultdict(list)
    cumulative: dict[str, list[int]] = defaultdict(list)
    check = f"{START_IMPORTS}; import sys; print(' '.join(m for m in {WATCHED!r} if m in sys.modules))"
    loaded: list[str] = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", check], env=env,
                              cwd=ROOT, capture_output=True, text=True, check=True)
        loaded = done.stdout.split()
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative_us, name = line[len("import time:"):].split("|")
            selfs[name.strip()].append(int(self_us))
            cumulative[name.strip()].append(int(cumulative_us))
    return ({k: statistics.median(v) for k, v in selfs.items()},
            {k: statistics.median(v) for k, v in cumulative.items()}, loaded)


def module_costs(env: dict[str, str], runs: int) -> dict[str, float | None]:
    """Median seconds of ``python -c "import X"`` less ``python -c pass`` (None: not installed)."""
    def once(code: str) -> float | None:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True)
        return time.perf_counter() - t0 if done.returncode == 0 else None

    out: dict[str, float | None] = {}
    samples: dict[str, list[float]] = defaultdict(list)
    missing: set[str] = set()
    for _ in range(runs):
        base = once("pass")
        assert base is not None
        for module in HEAVY_MODULES:
            if module in missing:
                continue
            seconds = once(f"import {module}")
            if seconds is None:
                missing.add(module)
            else:
                samples[module].append(seconds - base)
    for module in HEAVY_MODULES:
        out[module] = None if module in missing else statistics.median(samples[module])
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="starts of each app")
    parser.add_argument("--import-runs", type=int, default=5, help="processes per import figure")
    parser.add_argument("--top", type=int, default=15, help="imports to list")
    parser.add_argument("--db", type=Path, help="start on this SQLite file (e.g. the 1M-client "
                        "bench/data/big.sqlite3; it gets a business name if it has none) "
                        "instead of a new demo database")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)

    with tempfile.TemporaryDirectory(prefix="tssg-startup-") as tmp:
        home = Path(tmp)
        env = _env(home)
        db_path = prepare_database(args.db, home) if args.db else make_demo_database(home)
        print(f"TSSG CRM Pro start-up: Python {sys.version.split()[0]}, {runs} starts each, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"database {db_path.name} ({db_path.stat().st_size / 1e6:,.0f} MB)")
        uncached_env = _env(home, bytecode_cache=False)
        needle = first_client_name(db_path)
        bare_frame: list[float] = []
        our_frame: list[float] = []
        first_frame(BARE_TERMINAL_APP, [], env, b"Hello from")  # untimed, as below
        first_frame(OUR_TERMINAL_APP, [str(db_path)], env, needle)
        for _ in range(runs):
            bare_frame.append(first_frame(BARE_TERMINAL_APP, [], env, b"Hello from"))
            our_frame.append(first_frame(OUR_TERMINAL_APP, [str(db_path)], env, needle))
        bf, of = statistics.median(bare_frame), statistics.median(our_frame)
        print("  On a 100x30 pseudo-terminal, from spawn to the first frame that shows:")
        print(f"  bare Textual app: its text                 {_ms(bf)}         (min {_ms(min(bare_frame)).strip()})")
        print(f"  ours: the client list's first row          {_ms(of)}  {of / bf:5.2f}x bare"
              f"  (min {_ms(min(our_frame)).strip()}; target 1.5x)")
        print("  Headless, from spawn to the moment the app says so:")
        marks = ("ready", "page", "open")
        bare: list[float] = []
        ready: list[float] = []
        page: list[float] = []
        opened: list[float] = []
        uncached: list[float] = []
        # untimed: writes the bytecode cache, warms the OS file cache
        timed_start(BARE_APP, [], env, ("ready",))
        timed_start(OUR_APP, [str(db_path)], env, marks)
        for _ in range(runs):
            bare.append(timed_start(BARE_APP, [], env, ("ready",))["ready"])
            seen = timed_start(OUR_APP, [str(db_path)], env, marks)
            ready.append(seen["ready"])
            page.append(seen["page"])
            opened.append(seen["open"])
            uncached.append(timed_start(OUR_APP, [str(db_path)], uncached_env, marks)["page"])
        b, r, pg, o, u = (statistics.median(x) for x in (bare, ready, page, opened, uncached))
        print(f"  bare Textual app, first screen ready       {_ms(b)}         (min {_ms(min(bare)).strip()})")
        print(f"  ours, app ready (\"started in\")             {_ms(r)}  {r / b:5.2f}x bare")
        print(f"  ours, client list first page shown         {_ms(pg)}  {pg / b:5.2f}x bare"
              f"  (min {_ms(min(page)).strip()}; target 1.5x)")
        print(f"  ours, database open behind it              {_ms(o)}  {o / b:5.2f}x bare"
              "  (SQLAlchemy imported, models mapped, schema checked)")
        print(f"  first page without a bytecode cache        {_ms(u)}  {u / b:5.2f}x bare"
              "  (PYTHONDONTWRITEBYTECODE=1: our modules compiled on every start)")

        selfs, cumulative, loaded = import_times(env, max(1, args.import_runs))
        total = sum(selfs.values())
        print(f"\n  imports of the start ({START_IMPORTS}): {total / 1000:.0f} ms in all "
              f"(-X importtime, median of {args.import_runs})")
        ours = {k: v for k, v in cumulative.items() if k.split(".")[0] in ("core", "tui", "config")}
        print("  costliest of ours, cumulative (includes what they import first):")
        for name, us in sorted(ours.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"    {us / 1000:7.1f} ms  {name}")
        print("  costliest single modules, self time:")
        for name, us in sorted(selfs.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"    {us / 1000:7.1f} ms  {name}")
        print(f"  heavy modules loaded by the start: {', '.join(loaded) or 'none'}")

        print(f"\n  python -c \"import X\", less python -c pass (median of {args.import_runs}):")
        for module, seconds in module_costs(env, max(1, args.import_runs)).items():
            shown = "not installed" if seconds is None else _ms(seconds).strip()
            print(f"    {shown:>10}  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
