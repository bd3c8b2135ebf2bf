"""The config file: defaults, validation that names the file and the dotted key, and where the
app's files live (``TSSG_CRM_HOME``, ``TSSG_CRM_CONFIG``, ``--config``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import AppConfig, ConfigError, app_paths, load_config
from config.settings import parse_config

VALID_KEY = "ab" * 32  # 64 hex digits


def _load(tmp_path: Path, toml: str) -> AppConfig:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path)


def _error(tmp_path: Path, toml: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, toml)
    message = str(info.value)
    assert "\n" not in message
    return message


def _leaf_fields(cls: type = AppConfig, prefix: str = "") -> list[tuple[str, str]]:
    """Every settable key of the config as (dotted key, annotation), found from the dataclasses."""
    out = []
    for f in dataclasses.fields(cls):
        if f.name == "source":
            continue
        dotted = f"{prefix}.{f.name}" if prefix else f.name
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out += _leaf_fields(type(default), dotted)
        else:
            out.append((dotted, str(f.type)))
    return out


LEAVES = _leaf_fields()
WRONG_VALUE = {"str": "42", "str | None": "42", "bool": '"yes"', "int": '"ten"',
               "float": '"fast"', "dict[str, str]": "5"}


def _toml_for(dotted: str, value: str) -> str:
    *table, key = dotted.split(".")
    return (f"[{'.'.join(table)}]\n" if table else "") + f"{key} = {value}\n"


def test_no_file_means_every_default(tmp_path):
    config = load_config(tmp_path / "absent.toml")
    assert config == AppConfig(source=None)
    assert config.database.url is None  # crm.sqlite3 in the data dir
    assert config.ai.provider == "anthropic"
    assert config.integrations.stripe.api_base == "https://api.stripe.com"
    assert config.license.public_keys == {}
    assert config.keymap == {}


def test_an_empty_file_is_the_defaults_with_its_source(tmp_path):
    config = _load(tmp_path, "")
    assert config.source == tmp_path / "config.toml"
    assert dataclasses.replace(config, source=None) == AppConfig()


def test_every_key_of_the_design_loads(tmp_path):
    config = _load(tmp_path, f"""
[database]
url = "postgresql://crm@db.internal/crm"
backup_on_migrate = false
keep_backups = 3
[license]
server_url = "https://license.example.com/v1/check"
public_keys = {{ k2026 = "{VALID_KEY}" }}
[analytics]
endpoint = "http://127.0.0.1:9999/batch"
[integrations.stripe]
api_base = "http://127.0.0.1:12111"
timeout = 5
[integrations.twilio]
api_base = "https://api.twilio.com"
from_number = "+15005550006"
[integrations.usps]
api_base = "https://apis.usps.com"
[ai]
provider = "openai-compatible"
base_url = "http://localhost:11434/v1"
model = "llama3"
[ui]
theme = "textual-ansi"
[keymap]
"clients.new" = "ctrl+n"
""")
    assert config.database.url == "postgresql://crm@db.internal/crm"
    assert config.database.backup_on_migrate is False and config.database.keep_backups == 3
    assert config.license.public_keys == {"k2026": VALID_KEY}
    assert config.integrations.stripe.timeout == 5.0
    assert isinstance(config.integrations.stripe.timeout, float)
    assert config.integrations.twilio.from_number == "+15005550006"
    assert config.ai.provider == "openai-compatible" and config.ai.model == "llama3"
    assert config.keymap == {"clients.new": "ctrl+n"}


def test_the_leaf_list_covers_the_design_sections():
    sections = {dotted.split(".")[0] for dotted, _ in LEAVES}
    assert sections == {"database", "license", "analytics", "integrations", "ai", "ui", "keymap"}
    assert ("integrations.twilio.from_number", "str") in LEAVES


@pytest.mark.parametrize(("dotted", "annotation"), LEAVES, ids=[d for d, _ in LEAVES])
def test_a_wrong_type_names_the_file_and_the_dotted_key(tmp_path, dotted, annotation):
    message = _error(tmp_path, _toml_for(dotted, WRONG_VALUE[annotation]))
    assert message.startswith(f"{tmp_path / 'config.toml'}: {dotted}"), message
    assert "expected" in message


@pytest.mark.parametrize(
    "section",
    ["database", "license", "analytics", "integrations", "integrations.stripe",
     "integrations.twilio", "integrations.usps", "ai", "ui"],
)
def test_an_unknown_key_names_the_file_and_the_dotted_key(tmp_path, section):
    message = _error(tmp_path, f"[{section}]\ncolour = 'blue'\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: {section}.colour: unknown key")
    assert "allowed here:" in message


def test_an_unknown_section_is_an_error(tmp_path):
    message = _error(tmp_path, "[stripe]\napi_base = 'https://api.stripe.com'\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: stripe: unknown section")
    message = _error(tmp_path, "source = 'elsewhere'\n")
    assert ": source: unknown section" in message


def test_a_section_that_is_not_a_table(tmp_path):
    message = _error(tmp_path, "ai = 'anthropic'\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: ai: expected a table")
    message = _error(tmp_path, "[integrations]\nstripe = 5\n")
    assert ": integrations.stripe: expected a table" in message


@pytest.mark.parametrize(
    "dotted",
    ["license.server_url", "analytics.endpoint", "integrations.stripe.api_base",
     "integrations.twilio.api_base", "integrations.usps.api_base", "ai.base_url"],
)
@pytest.mark.parametrize("url", ["api.stripe.com", "ftp://files.example.com", "", "javascript:x"])
def test_a_bad_url_names_the_key(tmp_path, dotted, url):
    message = _error(tmp_path, _toml_for(dotted, f'"{url}"'))
    assert message == f"{tmp_path / 'config.toml'}: {dotted}: must be an http:// or https:// URL with a host"


@pytest.mark.parametrize("provider", ["claude", "OpenAI", "", "anthropic "])
def test_a_bad_ai_provider_lists_the_choices(tmp_path, provider):
    message = _error(tmp_path, f'[ai]\nprovider = "{provider}"\n')
    assert message.startswith(f"{tmp_path / 'config.toml'}: ai.provider: ")
    assert "anthropic, openai, openai-compatible" in message


@pytest.mark.parametrize("hexkey", ["zz" * 32, "ab" * 31, "ab" * 33, "", "0x" + "ab" * 31])
def test_a_bad_public_key_names_the_key_id(tmp_path, hexkey):
    message = _error(tmp_path, f'[license.public_keys]\nprivate2026 = "{hexkey}"\n')
    assert message == (f"{tmp_path / 'config.toml'}: license.public_keys.private2026: "
                       "expected 64 hex digits (an Ed25519 key)")


@pytest.mark.parametrize(
    ("toml", "dotted", "words"),
    [
        ("[database]\nkeep_backups = -1\n", "database.keep_backups", "negative"),
        ("[database]\nkeep_backups = true\n", "database.keep_backups", "boolean"),
        ("[ai]\ntimeout = 0\n", "ai.timeout", "greater than zero"),
        ("[ai]\ntimeout = -2.5\n", "ai.timeout", "greater than zero"),
        ("[integrations.usps]\ntimeout = true\n", "integrations.usps.timeout", "boolean"),
        ("[license.public_keys]\nk = 1\n", "license.public_keys.k", "a string"),
        ("[keymap]\n'clients.new' = 5\n", "keymap.clients.new", "key name"),
        ("keymap = 'ctrl+n'\n", "keymap", "table"),
    ],
)
def test_values_out_of_range_name_the_key(tmp_path, toml, dotted, words):
    message = _error(tmp_path, toml)
    assert message.startswith(f"{tmp_path / 'config.toml'}: {dotted}"), message
    assert words in message


def test_a_file_that_is_not_toml_or_not_utf8_names_the_file(tmp_path):
    assert _error(tmp_path, "[ai\nprovider = 'x'").startswith(
        f"{tmp_path / 'config.toml'}: not valid TOML")
    path = tmp_path / "config.toml"
    path.write_bytes(b"[ui]\ntheme = '\xff\xfe'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


_scalar = st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False),
                    st.booleans(), st.none())
_known = st.sampled_from(["database", "license", "analytics", "integrations", "ai", "ui",
                          "keymap", "stripe", "twilio", "usps", "url", "timeout", "provider",
                          "public_keys", "api_base", "base_url", "model", "theme", "k"])
_document = st.recursive(
    _scalar,
    lambda inner: st.dictionaries(st.one_of(_known, st.text(max_size=6)), inner, max_size=4)
    | st.lists(inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_known, _document, max_size=4))
def test_any_document_gives_a_config_or_a_config_error_naming_the_file(data):
    """No TypeError/AttributeError from a malformed file: always a message for a person."""
    try:
        config = parse_config(data, "my.toml")
    except ConfigError as exc:
        assert str(exc).startswith("my.toml: ")
    else:
        assert isinstance(config, AppConfig)


# --------------------------------------------------------------------------- where files live


def test_tssg_crm_home_puts_everything_under_one_directory(tmp_path, monkeypatch):
    home = tmp_path / "portable"
    monkeypatch.setenv("TSSG_CRM_HOME", str(home))
    paths = app_paths()
    every = [paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir,
             paths.config_file, paths.secrets_file, paths.database_file, paths.backup_dir,
             paths.state_file, paths.log_file]
    for path in every:
        assert path.is_relative_to(home), path
    assert len({paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir}) == 4
    assert paths.config_file == home / "config" / "config.toml"
    assert paths.secrets_file.parent == paths.config_file.parent
    paths.ensure()
    for d in (paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir):
        assert d.is_dir() and d.stat().st_mode & 0o777 == 0o700


def test_without_tssg_crm_home_the_platform_directories_are_used(tmp_path, monkeypatch):
    monkeypatch.delenv("TSSG_CRM_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    if os.name != "posix" or os.uname().sysname == "Darwin":
        pytest.skip("XDG locations are the Linux layout")
    paths = app_paths()
    assert paths.config_file == tmp_path / "xdg-config" / "tssg-crm" / "config.toml"
    assert paths.database_file == tmp_path / "xdg-data" / "tssg-crm" / "crm.sqlite3"


def test_tssg_crm_config_names_the_file_and_an_explicit_file_wins(tmp_path, monkeypatch):
    env_file = tmp_path / "from-env.toml"
    monkeypatch.setenv("TSSG_CRM_CONFIG", str(env_file))
    assert app_paths().config_file == env_file
    # the other directories stay under TSSG_CRM_HOME
    assert app_paths().data_dir == Path(os.environ["TSSG_CRM_HOME"]) / "data"
    explicit = tmp_path / "explicit.toml"
    assert app_paths(explicit).config_file == explicit


def test_the_config_file_is_read_from_where_tssg_crm_config_points(tmp_path, monkeypatch):
    env_file = tmp_path / "team.toml"
    env_file.write_text('[ai]\nprovider = "openai"\n')
    monkeypatch.setenv("TSSG_CRM_CONFIG", str(env_file))
    assert load_config(app_paths().config_file).ai.provider == "openai"


@pytest.mark.parametrize("toml", ["[ai]\ntimeout = nan\n", '[ai]\nbase_url = "https://"\n'])
def test_non_finite_numbers_and_host_less_urls_are_refused(tmp_path, toml):
    assert _error(tmp_path, toml).startswith(f"{tmp_path / 'config.toml'}: ai.")
