"""Where the app keeps its files.

By default the platformdirs locations for "tssg-crm"; ``TSSG_CRM_HOME`` puts config, data,
state and cache under one directory (tests and portable installs use it), and
``TSSG_CRM_CONFIG`` names the config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "tssg-crm"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    cache_dir: Path
    config_file: Path

    @property
    def secrets_file(self) -> Path:
        return self.config_dir / "secrets.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "crm.sqlite3"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "tssg-crm.log"

    def ensure(self) -> None:
        for d in (self.config_dir, self.data_dir, self.state_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)


def app_paths(config_file: str | os.PathLike[str] | None = None) -> AppPaths:
    """Resolve the app's directories; an explicit ``config_file`` wins over the environment."""
    home = os.environ.get("TSSG_CRM_HOME")
    if home:
        root = Path(home).expanduser()
        config_dir, data_dir = root / "config", root / "data"
        state_dir, cache_dir = root / "state", root / "cache"
    else:
        import platformdirs

        config_dir = platformdirs.user_config_path(APP_NAME, appauthor=False)
        data_dir = platformdirs.user_data_path(APP_NAME, appauthor=False)
        state_dir = platformdirs.user_state_path(APP_NAME, appauthor=False)
        cache_dir = platformdirs.user_cache_path(APP_NAME, appauthor=False)
    if config_file is None:
        env_config = os.environ.get("TSSG_CRM_CONFIG")
        config_file = Path(env_config).expanduser() if env_config else config_dir / "config.toml"
    return AppPaths(
        config_dir=config_dir,
        data_dir=data_dir,
        state_dir=state_dir,
        cache_dir=cache_dir,
        config_file=Path(config_file),
    )
