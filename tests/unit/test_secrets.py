"""Sealing stored secrets (shared/secrets.py) and the key setting (shared/settings.py): what is sealed
opens to the same text, a new key put first still opens what the old one sealed, resealing makes the
old key unnecessary, and a bad or missing key is refused without ever showing a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from shared.cli import cli
from shared.secrets import SealedColumn, SecretBox, SecretKeyError, is_sealed, new_secret_key
from shared.settings import NoSecretKey, Settings, ensure_secret_key_file

CLEAR = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_a_sealed_secret_opens_to_the_same_text_and_is_not_the_text() -> None:
    box = SecretBox(new_secret_key())

    sealed = box.seal(CLEAR)

    assert sealed != CLEAR and CLEAR not in sealed
    assert box.open(sealed) == CLEAR
    assert box.seal(CLEAR) != sealed, "every seal is a fresh token (random IV)"


def test_is_sealed_tells_a_token_from_a_value_in_clear() -> None:
    box = SecretBox(new_secret_key())

    assert is_sealed(box.seal(CLEAR))
    assert is_sealed(box.seal(""))
    assert not is_sealed(CLEAR)
    assert not is_sealed("")


def test_a_new_key_put_first_still_opens_what_the_old_key_sealed_and_seals_under_the_new() -> None:
    old, new = new_secret_key(), new_secret_key()
    sealed_by_old = SecretBox(old).seal(CLEAR)

    rotated = SecretBox(f"{new}, {old}")

    assert rotated.open(sealed_by_old) == CLEAR
    sealed_now = rotated.seal(CLEAR)
    assert SecretBox(new).open(sealed_now) == CLEAR
    with pytest.raises(ValueError, match="cannot be opened"):
        SecretBox(old).open(sealed_now)


def test_resealing_makes_the_old_key_unnecessary() -> None:
    old, new = new_secret_key(), new_secret_key()
    sealed_by_old = SecretBox(old).seal(CLEAR)
    rotated = SecretBox(f"{new},{old}")
    assert not rotated.sealed_under_first_key(sealed_by_old)

    resealed = rotated.reseal(sealed_by_old)

    assert rotated.sealed_under_first_key(resealed)
    assert SecretBox(new).open(resealed) == CLEAR
    with pytest.raises(ValueError, match="cannot be opened"):
        SecretBox(old).open(resealed)
    with pytest.raises(ValueError, match="cannot be opened"):
        SecretBox(new).open(sealed_by_old)


def test_a_value_no_key_opens_is_refused_without_showing_it() -> None:
    sealed = SecretBox(new_secret_key()).seal(CLEAR)
    stranger = SecretBox(new_secret_key())

    with pytest.raises(ValueError) as refused:
        stranger.open(sealed)
    assert sealed not in str(refused.value) and CLEAR not in str(refused.value)
    with pytest.raises(ValueError, match="cannot be opened"):
        stranger.reseal(sealed)
    assert not stranger.sealed_under_first_key(sealed)
    assert not stranger.sealed_under_first_key(CLEAR)


@pytest.mark.parametrize(
    ("keys", "position"),
    [
        ("not-a-fernet-key-at-all", "key 1 of 1"),
        (f"{new_secret_key()},c2hvcnQ=", "key 2 of 2"),
        (f"{new_secret_key()},{new_secret_key()},{'A' * 43}!", "key 3 of 3"),
    ],
)
def test_a_bad_key_names_its_position_never_its_value(keys: str, position: str) -> None:
    with pytest.raises(SecretKeyError, match=position) as refused:
        SecretBox(keys)
    for part in keys.split(","):
        assert part not in str(refused.value)


@pytest.mark.parametrize("keys", ["", " , ,"])
def test_no_key_at_all_is_refused(keys: str) -> None:
    with pytest.raises(SecretKeyError, match="holds no key"):
        SecretBox(keys)


def test_new_secret_key_is_a_fresh_fernet_key() -> None:
    keys = {new_secret_key() for _ in range(10)}

    assert len(keys) == 10
    for key in keys:
        Fernet(key.encode())  # raises when it is not a Fernet key


@pytest.mark.parametrize(
    "names", [("channels; drop", "code", "secret"), ("t", "Code", "secret"), ("t", "code", "se cret")]
)
def test_a_sealed_column_takes_only_plain_identifiers(names: tuple[str, str, str]) -> None:
    with pytest.raises(ValueError, match="plain SQL identifier"):
        SealedColumn(*names)


# ---------------------------------------------------------------------------------------------- settings


def test_the_key_setting_wins_over_the_file(tmp_path: Path) -> None:
    in_setting, in_file = new_secret_key(), new_secret_key()
    key_file = tmp_path / "secret-key"
    key_file.write_text(in_file + "\n")

    box = Settings(secret_key=in_setting, secret_key_file=key_file).secret_box

    assert SecretBox(in_setting).open(box.seal(CLEAR)) == CLEAR
    with pytest.raises(ValueError):
        SecretBox(in_file).open(box.seal(CLEAR))


def test_without_the_setting_the_key_file_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / ".dropship" / "secret-key"
    assert ensure_secret_key_file(key_file)
    assert not ensure_secret_key_file(key_file), "an existing file is kept"

    box = Settings(secret_key=None, secret_key_file=key_file).secret_box

    assert key_file.stat().st_mode & 0o777 == 0o600
    assert SecretBox(key_file.read_text().strip()).open(box.seal(CLEAR)) == CLEAR


def test_no_key_anywhere_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"

    with pytest.raises(NoSecretKey, match="no secret key: set DROPSHIP_SECRET_KEY") as refused:
        _ = Settings(secret_key=None, secret_key_file=missing).secret_box
    assert isinstance(refused.value, RuntimeError)
    assert str(missing) in str(refused.value)


def test_a_bad_key_in_the_setting_is_refused_when_the_box_is_built() -> None:
    bad = "Zm9vYmFy" * 3
    settings = Settings(secret_key=f"{new_secret_key()},{bad}")

    with pytest.raises(SecretKeyError, match="key 2 of 2") as refused:
        _ = settings.secret_box
    assert bad not in str(refused.value)


def test_production_wants_the_key_in_the_environment() -> None:
    unset = Settings(secret_key=None).production_problems()
    given = Settings(secret_key=new_secret_key()).production_problems()

    assert any("DROPSHIP_SECRET_KEY is not set" in problem for problem in unset)
    assert not any("DROPSHIP_SECRET_KEY" in problem for problem in given)


def test_the_cli_prints_a_new_key() -> None:
    result = CliRunner().invoke(cli, ["secrets", "new-key"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    Fernet(result.output.strip().encode())
