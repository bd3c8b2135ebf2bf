"""Secrets: the 0600 file, environment overrides, and a value that never shows itself (repr,
str, f-strings, dataclass reprs, tracebacks with locals, pickling)."""

from __future__ import annotations

import copy
import logging
import os
import pickle
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import ConfigError, Secret, Secrets, load_secrets
from config.secrets import SECRET_ENV

KEY = "sk_live_51HxQ2eZvKYlo2CExampleSecretValue9"


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def secrets_path(tmp_path) -> Path:
    return tmp_path / "config" / "secrets.toml"


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


# --------------------------------------------------------------------------- the file


def test_a_missing_file_means_no_secrets(secrets_path):
    secrets = load_secrets(secrets_path)
    assert secrets.values == {} and secrets.get("stripe_api_key") is None


def test_saved_secrets_are_written_0600_even_with_a_permissive_umask(secrets_path):
    old = os.umask(0)
    try:
        Secrets(path=secrets_path).set("stripe_api_key", KEY)
    finally:
        os.umask(old)
    assert _mode(secrets_path) == 0o600
    assert _mode(secrets_path.parent) == 0o700
    assert load_secrets(secrets_path).get("stripe_api_key") == Secret(KEY)
    assert not secrets_path.with_suffix(".tmp").exists()


def test_delete_removes_a_secret_from_the_file(secrets_path):
    secrets = Secrets(path=secrets_path)
    secrets.set("stripe_api_key", KEY)
    secrets.set("license_key", "TSSG-AAAA-BBBB")
    secrets.delete("stripe_api_key")
    reloaded = load_secrets(secrets_path)
    assert set(reloaded.values) == {"license_key"}
    assert KEY not in secrets_path.read_text()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_readable_by_others_is_refused_with_the_chmod_hint(secrets_path, mode):
    _write(secrets_path, f'stripe_api_key = "{KEY}"\n', mode)
    with pytest.raises(ConfigError) as info:
        load_secrets(secrets_path)
    message = str(info.value)
    assert message.startswith(f"{secrets_path}: ")
    assert f"(mode {mode:o})" in message
    assert message.endswith(f"run: chmod 600 {secrets_path}")
    assert KEY not in message


def test_unknown_keys_and_non_strings_are_refused_by_name(secrets_path):
    _write(secrets_path, 'stripe_key = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'stripe_key' \(allowed: ai_api_key, "):
        load_secrets(secrets_path)
    _write(secrets_path, "license_key = 1234\n")
    with pytest.raises(ConfigError, match="key 'license_key' must be a string"):
        load_secrets(secrets_path)
    with pytest.raises(ConfigError, match="unknown secret 'paypal_key'"):
        Secrets(path=secrets_path).set("paypal_key", "x")


def test_environment_variables_win_over_the_file_and_are_not_written_to_it(
    secrets_path, monkeypatch
):
    _write(secrets_path, 'ai_api_key = "from-the-file"\nlicense_key = "LIC-FILE"\n')
    monkeypatch.setenv("TSSG_CRM_AI_API_KEY", "from-the-environment")
    secrets = load_secrets(secrets_path)
    assert secrets.get("ai_api_key") == Secret("from-the-environment")
    assert secrets.get("license_key") == Secret("LIC-FILE")
    assert secrets.from_env == {"ai_api_key"}
    secrets.set("stripe_api_key", KEY)  # saving must not copy the env value into the file
    text = secrets_path.read_text()
    assert "from-the-environment" not in text and "ai_api_key" not in text
    assert KEY in text


@pytest.mark.parametrize(("name", "env"), sorted(SECRET_ENV.items()))
def test_every_documented_environment_variable_is_read(secrets_path, monkeypatch, name, env):
    monkeypatch.setenv(env, f"value-of-{name}")
    assert load_secrets(secrets_path).get(name) == Secret(f"value-of-{name}")


def test_naughty_values_survive_a_save_and_load(secrets_path, naughty_strings):
    # U+007F is covered by test_a_value_with_delete_survives below
    for value in [s for s in naughty_strings if s and "\x7f" not in s]:
        Secrets(path=secrets_path).set("ai_api_key", value)
        assert load_secrets(secrets_path).get("ai_api_key") == Secret(value), repr(value)


def test_a_value_with_delete_survives(secrets_path):
    Secrets(path=secrets_path).set("ai_api_key", "abc\x7fdef")
    assert load_secrets(secrets_path).get("ai_api_key") == Secret("abc\x7fdef")


# --------------------------------------------------------------------------- the value


def test_repr_str_and_formatting_never_show_the_value():
    secret = Secret(KEY)
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret!s}",
             "%s" % secret, "%r" % (secret,),  # noqa: UP031 - old-style formatting on purpose
             "{}".format(secret),  # noqa: UP032 - str.format on purpose
             str([secret]), str({"k": secret}), str((secret,))]
    for text in shown:
        assert KEY not in text and "**redacted**" in text, text
    assert secret.get() == KEY


def test_masked_shows_at_most_the_last_four_characters():
    assert Secret(KEY).masked() == "••••" + KEY[-4:]
    assert Secret("short").masked() == "••••"
    assert Secret("12345678").masked() == "••••"


def test_a_dataclass_holding_secrets_does_not_show_them(secrets_path):
    @dataclass
    class StripeSettings:
        api_base: str
        api_key: Secret

    settings = StripeSettings("https://api.stripe.com", Secret(KEY))
    assert KEY not in repr(settings) and "api.stripe.com" in repr(settings)
    secrets = Secrets(path=secrets_path, values={"stripe_api_key": Secret(KEY)})
    assert KEY not in repr(secrets) and KEY not in str(secrets)


def test_a_traceback_with_local_variables_does_not_show_the_value(secrets_path):
    _write(secrets_path, f'stripe_api_key = "{KEY}"\n')

    def charge(amount_cents: int) -> None:
        secrets = load_secrets(secrets_path)
        api_key = secrets.get("stripe_api_key")
        headers = {"Authorization": api_key}
        raise RuntimeError(f"Stripe said no to {amount_cents} with {headers}")

    with pytest.raises(RuntimeError) as info:
        charge(4200)
    formatted = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert "api_key = Secret('**redacted**')" in formatted  # the locals really are in there
    assert KEY not in formatted


def test_logging_a_secret_does_not_show_it(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("tssg").info("using key %s / %r", Secret(KEY), Secret(KEY))
    assert KEY not in caplog.text


def test_a_secrets_file_error_does_not_leak_the_other_values_into_traceback_locals(secrets_path):
    _write(secrets_path, f'stripe_api_key = "{KEY}"\nstripe_key_typo = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_secrets(secrets_path)
    formatted = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert KEY not in formatted


def test_a_secret_cannot_be_pickled_or_copied_out():
    secret = Secret(KEY)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(secret, protocol=protocol)
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [secret]})
    with pytest.raises(TypeError):
        copy.deepcopy(secret)


def test_secrets_compare_by_value_without_showing_it():
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KEY + "x")
    assert Secret(KEY) != KEY  # never equal to the bare string: no accidental comparisons
    assert len({Secret(KEY), Secret(KEY)}) == 1
    assert not Secret("") and Secret(KEY)
