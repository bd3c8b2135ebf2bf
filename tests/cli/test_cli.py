"""The command line as a script sees it: exit codes, one-line errors, the entry point, logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli.support import add_client, assert_usage_error, client_names, mode
from tui import cli as cli_module

ENTRY_POINT = Path(sys.executable).with_name("tssg-crm")


def _run_real(*argv: str, env_home: Path, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """The installed ``tssg-crm`` script (or ``python -m tui.cli``) in a child process."""
    cmd = [str(ENTRY_POINT)] if ENTRY_POINT.exists() else [sys.executable, "-m", "tui.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSSG_CRM_")}
    env["TSSG_CRM_HOME"] = str(env_home)
    return subprocess.run(
        [*cmd, *argv], capture_output=True, text=True, stdin=stdin, env=env, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_version_in_process(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"tssg-crm {cli_module.__version__}"


def test_the_installed_command_runs_and_exits_with_the_documented_codes(tmp_path, sqlite_db):
    home = tmp_path / "home"
    version = _run_real("--version", env_home=home)
    assert version.returncode == 0
    assert version.stdout.strip() == f"tssg-crm {cli_module.__version__}"

    unknown = _run_real("frobnicate", env_home=home)
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert unknown.stderr.splitlines() == [unknown.stderr.strip()]
    assert unknown.stderr.startswith("tssg-crm: unknown command 'frobnicate'")

    backup = tmp_path / "shop-backup.sqlite3"
    made = _run_real("--db", str(sqlite_db.path), "backup", str(backup), env_home=home)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(backup)

    # a child process with /dev/null on stdin has no terminal: restore refuses without --yes
    refused = _run_real("--db", str(sqlite_db.path), "restore", str(backup), env_home=home)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "pass --yes to replace the current database (stdin is not a terminal, so there is no one to ask)"
    )
    assert refused.stderr.count("\n") == 1

    doctor = _run_real("--db", str(sqlite_db.path), "doctor", env_home=home)
    assert doctor.returncode == 0, doctor.stdout


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["frobnicate"], ["unknown command 'frobnicate'", "backup", "doctor"]),
        (["backup", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
        (["restore"], ["FILE"]),
        (["--db", "mysql://shop:pw-hunter2@db.example/crm", "doctor"], ["--db", "mysql"]),
        (["--db", "not a url://x", "doctor"], ["--db", "not a database URL"]),
        (["--db", "postgresql+asyncpg://db.example/crm", "doctor"], ["--db", "psycopg"]),
        (["--db", "postgresql://db.example", "doctor"], ["--db", "names no database"]),
        (["--db", "sqlite://", "doctor"], ["--db", "in-memory"]),
        (["--db", "sqlite:///:memory:", "doctor"], ["--db", "in-memory"]),
        (["--db", "", "doctor"], ["--db", "empty"]),
        (["demo", "--clients", "0"], ["--clients", "between 1 and 1,000,000"]),
        (["demo", "--clients", "1000001"], ["--clients", "between 1 and 1,000,000"]),
        (["demo", "--clients", "-5"], ["--clients"]),
        (["demo", "--clients", "ten"], ["--clients", "'ten' is not a whole number"]),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, argv, words):
    result = cli(*argv)
    assert_usage_error(result, *words)
    assert "hunter2" not in result.err  # a URL's password is never echoed


def test_db_naming_a_directory_or_a_non_database_file_is_refused(cli, tmp_path):
    assert_usage_error(cli("--db", str(tmp_path), "doctor"), "is a directory")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all\n")
    assert_usage_error(cli("--db", str(junk), "backup"), str(junk), "not a SQLite database")
    assert junk.read_text() == "not a database at all\n"  # untouched


def test_config_errors_exit_2_naming_file_and_key(cli, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text('[ai]\nprovider = "skynet"\n')
    result = cli("--config", str(bad), "backup")
    assert_usage_error(result, str(bad), "ai.provider")

    monkeypatch.setenv("TSSG_CRM_CONFIG", str(bad))
    assert_usage_error(cli("backup"), str(bad), "ai.provider")

    # --config wins over TSSG_CRM_CONFIG
    good = tmp_path / "good.toml"
    good.write_text('[ai]\nprovider = "openai"\n')
    result = cli("--config", str(good), "doctor")
    assert result.code == 0, result

    missing = tmp_path / "missing.toml"
    assert_usage_error(cli("--config", str(missing), "doctor"), str(missing), "no such file")
    monkeypatch.setenv("TSSG_CRM_CONFIG", str(tmp_path))
    assert_usage_error(cli("doctor"), "TSSG_CRM_CONFIG", "is a directory")


def test_a_bad_database_url_in_the_config_names_file_and_key(cli, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[database]\nurl = "oracle://scott:tiger99@db/crm"\n')
    result = cli("--config", str(config), "backup")
    assert_usage_error(result, f"{config}: database.url", "oracle")
    assert "tiger99" not in result.err


def test_the_config_database_url_is_used(cli, tmp_path, sqlite_db):
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{sqlite_db.path}"\n')
    dest = tmp_path / "copy.sqlite3"
    result = cli("--config", str(config), "backup", str(dest))
    assert result.code == 0, result
    assert dest.exists()


def test_global_options_also_work_after_the_command(cli, sqlite_db, tmp_path):
    dest = tmp_path / "after.sqlite3"
    result = cli("backup", str(dest), "--db", str(sqlite_db.path))
    assert result.code == 0, result
    assert result.out.strip() == str(dest)


def test_an_unexpected_failure_is_one_line_and_the_traceback_goes_to_the_log(
    cli, monkeypatch, _isolated_home
):
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    monkeypatch.setenv("TSSG_CRM_STRIPE_API_KEY", secret)

    class Explode:
        @staticmethod
        def setup(parser):
            pass

        @staticmethod
        def run(args):
            api_key = secret  # a local a careless traceback printer would show
            raise RuntimeError(f"gateway said no to {api_key} at postgresql://u:pw-hunter2@h/db")

    monkeypatch.setitem(cli_module.COMMANDS, "explode", (Explode.setup, Explode.run, "test"))
    result = cli("explode")
    assert result.code == 1
    assert result.out == ""
    assert len(result.err_lines) == 1
    log_file = _isolated_home / "state" / "tssg-crm.log"
    assert result.err_lines[0] == (
        f"tssg-crm: unexpected error (RuntimeError); the details are in {log_file}"
    )
    log = log_file.read_text()
    assert "Traceback" in log and "RuntimeError: gateway said no to ***" in log
    assert secret not in log and "pw-hunter2" not in log
    assert mode(log_file) == 0o600


def test_an_unreachable_database_says_so_without_the_password(cli, monkeypatch, _isolated_home):
    secret = "sk_live_51Habcdefghijklmnop"
    monkeypatch.setenv("TSSG_CRM_AI_API_KEY", secret)
    # port 1 on loopback: nothing listens, the connection is refused at once
    url = "postgresql://crm:pw-hunter2@127.0.0.1:1/crm"
    result = cli("--db", url, "demo")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert result.err.startswith("tssg-crm: cannot use the database: ")
    assert "refused" in result.err.lower()
    log = (_isolated_home / "state" / "tssg-crm.log").read_text()
    for shown in (result.out, result.err, log):
        assert "pw-hunter2" not in shown and secret not in shown


def test_help_lists_every_registered_command(cli):
    result = cli("--help")
    assert result.code == 0
    assert {"demo", "backup", "restore", "doctor"} <= set(cli_module.COMMANDS)
    for name, (_setup, _run, help_text) in cli_module.COMMANDS.items():
        assert name in result.out and help_text.split()[0] in result.out


def test_a_database_from_a_newer_version_is_not_migrated_or_touched(cli, sqlite_db, tmp_path):
    add_client(sqlite_db, "Future Proof")
    with sqlite_db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    result = cli("--db", str(sqlite_db.path), "demo", "--force")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "newer version of TSSG CRM" in result.err and "Nothing was changed" in result.err
    assert client_names(sqlite_db) == ["Future Proof"]
    assert not list((tmp_path / "home" / "data" / "backups").glob("*"))


def test_opening_the_tui_skips_the_subcommands_and_anything_else_reads_them_all():
    """`tssg-crm [--db X] [--config Y]` is parsed without registering every subcommand (a
    start-up cost); everything else goes to the full parser, which reports mistakes."""
    from tui.cli import _tui_arguments

    args = _tui_arguments(["--db", "/tmp/crm.sqlite3", "--config=/tmp/c.toml"])
    assert args is not None
    assert (args.command, args.db, args.config) == (None, "/tmp/crm.sqlite3", "/tmp/c.toml")
    assert _tui_arguments([]) is not None
    assert _tui_arguments(["--db=/tmp/a.sqlite3"]).db == "/tmp/a.sqlite3"
    for argv in (["demo"], ["--db", "x", "backup"], ["--help"], ["--version"], ["--db"],
                 ["--colour"], ["extra"], ["--db", "--config", "c.toml"], ["--db", "a", "--db", "b"],
                 ["--conf", "c.toml"]):
        assert _tui_arguments(argv) is None, argv
