"""Open everything a session of the app needs: paths, config, the migrated database.

Shared by the TUI and the CLI so both resolve ``--db``/``--config``/``TSSG_CRM_HOME`` the
same way and both migrate (with a backup first) before touching data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import AppConfig, AppPaths, app_paths, load_config
from config.secrets import Secrets, load_secrets
from core import migrate
from core.db import Database


@dataclass
class Runtime:
    paths: AppPaths
    config: AppConfig
    db: Database
    migrated_backup: Path | None = None
    _secrets: Secrets | None = None

    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            self._secrets = load_secrets(self.paths.secrets_file)
        return self._secrets

    def close(self) -> None:
        self.db.dispose()


def database_url(paths: AppPaths, config: AppConfig, db_arg: str | None) -> str:
    return db_arg or config.database.url or str(paths.database_file)


def open_runtime(db_arg: str | None = None, config_file: str | None = None, *,
                 migrate_db: bool = True) -> Runtime:
    paths = app_paths(config_file)
    paths.ensure()
    config = load_config(paths.config_file)
    db = Database(database_url(paths, config, db_arg))
    backup = None
    if migrate_db:
        backup = migrate.upgrade(
            db,
            backup_dir=paths.backup_dir if config.database.backup_on_migrate else None,
            keep_backups=config.database.keep_backups,
        )
    return Runtime(paths=paths, config=config, db=db, migrated_backup=backup)
