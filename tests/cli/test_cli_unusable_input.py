"""Command-line arguments and files the CLI reads: text Passgate can't store (NUL, and the lone surrogates argv
uses for bytes that are not UTF-8) is one error line and a non-zero exit, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from passgate.apps.models import AppRegistration
from passgate.cli import main
from passgate.directory.models import SecurityGroup, User

pytestmark = pytest.mark.django_db(transaction=True)


def one_error_line(capsys: Any, argv: list[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1 and out == "", (code, out, err)
    [line] = err.splitlines()
    assert line.startswith("passgate: error: ")
    line.encode("utf-8")
    return line


@pytest.mark.parametrize("argv", [
    ["users", "add", "alice@contoso.com", "--display-name", "Caf\udce9"],  # Latin-1 "é" in a UTF-8 locale
    ["users", "add", "al\udcffce@contoso.com"],
    ["groups", "add", "Pilot\x00"],
    ["groups", "add", "Pilot", "--description", "\udc80"],
    ["apps", "add", "--name", "Wiki\udce9", "--permission", "User.Read.All"],
    ["apps", "add", "--name", "Wiki", "--redirect-uri", "https://wiki.contoso.test/cb\udce9"],
])
def test_arguments_that_are_not_storable_text(capsys: Any, argv: list[str]) -> None:
    line = one_error_line(capsys, argv)
    assert "The argument " in line and ("U+DC" in line or "U+0000" in line)
    assert not User.objects.exists() and not SecurityGroup.objects.exists() and not AppRegistration.objects.exists()


@pytest.mark.parametrize("character", ["\x00", "\ud800"])
def test_a_jwks_file_with_unusable_text(capsys: Any, tmp_path: Path, character: str) -> None:
    from joserfc.jwk import ECKey

    public = ECKey.generate_key("P-256").as_dict(private=False)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": f"k{character}", "use": "sig"}]}))  # as \\u escapes
    line = one_error_line(capsys, ["apps", "add", "--name", "Bad", "--redirect-uri", "https://a.example/cb",
                                   "--auth-method", "private_key_jwt", "--jwks", str(jwks)])
    assert "keys[0].kid contains U+" in line
    assert not AppRegistration.objects.exists()


def test_a_good_command_still_works(capsys: Any) -> None:
    assert main(["users", "add", "alice@contoso.com", "--display-name", "Café", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["displayName"] == "Café"
