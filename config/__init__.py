"""Configuration: paths, the TOML settings file and the secrets file. Imports nothing of ours."""

from config.paths import AppPaths, app_paths
from config.secrets import Secret, Secrets, load_secrets
from config.settings import AppConfig, ConfigError, load_config

__all__ = [
    "AppConfig",
    "AppPaths",
    "ConfigError",
    "Secret",
    "Secrets",
    "app_paths",
    "load_config",
    "load_secrets",
]
