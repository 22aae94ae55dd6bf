"""The local sources of the security-key setting: provisioning packages (apply, show, remove) checked with the
cached JWKS, and the local group policy file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from passgate.agent.cli import main, read_policy
from passgate.agent.errors import AgentError
from passgate.agent.state import State
from passgate.core.devices import package
from passgate.core.devices.keys import b64url, b64url_decode, jwk_of
from tests.agent.support import Person
from tests.agent.test_daemon import joined_state

ORIGIN = "http://127.0.0.1:9"
SIGNER = ec.generate_private_key(ec.SECP256R1())
KID = "pkg-kid"


def made(*, on: bool = True, expires_in: int = 86400, issuer: str = ORIGIN,
         signer: ec.EllipticCurvePrivateKey = SIGNER) -> str:
    now = int(time.time())
    return package.issue(signer, KID, package.Package(issuer=issuer, package_id="pkg-1", issued_at=now - 60,
                                                      expires_at=now + expires_in, security_key_sign_in=on))


@pytest.fixture
def state(tmp_path: Path) -> State:
    state = joined_state(tmp_path / "state", origin=ORIGIN)
    state.save_jwks({"keys": [{**jwk_of(SIGNER.public_key()), "kid": KID, "alg": "ES256", "use": "sig"}]})
    return state


def run(state: State, *argv: str, capsys: Any) -> tuple[int, Person, str]:
    person = Person()
    status = main(["--state-dir", str(state.root), *argv], console=person)  # type: ignore[arg-type]
    return status, person, capsys.readouterr().err


def test_apply_a_valid_package_show_and_remove(state: State, tmp_path: Path, capsys: Any) -> None:
    file, text = tmp_path / "package.jwt", made()
    file.write_text(text + "\n")
    status, person, err = run(state, "package", "apply", str(file), capsys=capsys)
    assert status == 0, err
    assert person.said[0].startswith("Applied provisioning package pkg-1: security-key sign-in on")
    assert state.package_path.stat().st_mode & 0o777 == 0o600
    assert state.load_package() == text
    status, person, _ = run(state, "package", "show", "--json", capsys=capsys)
    shown = json.loads(person.said[0])
    assert status == 0 and shown["valid"] and shown["securityKeySignIn"] is True and shown["id"] == "pkg-1"
    assert run(state, "package", "remove", capsys=capsys)[0] == 0
    assert state.load_package() is None
    status, _, err = run(state, "package", "remove", capsys=capsys)
    assert status == 1 and "No provisioning package" in err


def test_a_tampered_package_is_refused(state: State, tmp_path: Path, capsys: Any) -> None:
    header, claims, signature = made(on=False).split(".")
    changed = json.loads(b64url_decode(claims))
    changed["settings"]["UseSecurityKeyForSignIn"] = 1
    file = tmp_path / "package.jwt"
    file.write_text(".".join([header, b64url(json.dumps(changed).encode()), signature]))
    status, _, err = run(state, "package", "apply", str(file), capsys=capsys)
    assert status == 1 and "signature does not verify" in err and "Nothing was applied" in err
    assert state.load_package() is None


@pytest.mark.parametrize(("text", "why"), [
    (made(expires_in=-1), "it has expired"),
    (made(issuer="https://other.example.com"), "another Passgate made it"),
    (made(signer=ec.generate_private_key(ec.SECP256R1())), "signature does not verify"),
    ("not a package", "not usable"),
])
def test_other_bad_packages_are_refused(state: State, tmp_path: Path, capsys: Any, text: str, why: str) -> None:
    file = tmp_path / "package.jwt"
    file.write_text(text)
    status, _, err = run(state, "package", "apply", str(file), capsys=capsys)
    assert status == 1 and why in err, err
    assert state.load_package() is None


def test_apply_without_passgates_keys_says_sync_first(state: State, tmp_path: Path, capsys: Any) -> None:
    state.jwks_path.unlink()
    file = tmp_path / "package.jwt"
    file.write_text(made())
    status, _, err = run(state, "package", "apply", str(file), capsys=capsys)
    assert status == 1 and "passgate-device sync first" in err


@pytest.mark.parametrize(("content", "value"), [
    ("TurnOnSecurityKeySignIn = enabled\n", "enabled"),
    ("# set by the domain\n\nTurnOnSecurityKeySignIn=disabled", "disabled"),
    ("  TurnOnSecurityKeySignIn =   notConfigured  \n", "notConfigured"),
])
def test_the_policy_file(tmp_path: Path, content: str, value: str) -> None:
    path = tmp_path / "policy.conf"
    path.write_text(content)
    assert read_policy(path) == value


@pytest.mark.parametrize("content", ["", "TurnOnSecurityKeySignIn = yes", "SomethingElse = enabled",
                                     "TurnOnSecurityKeySignIn enabled",
                                     "TurnOnSecurityKeySignIn = enabled\nTurnOnSecurityKeySignIn = disabled"])
def test_bad_policy_files_are_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "policy.conf"
    path.write_text(content)
    with pytest.raises(AgentError) as refused:
        read_policy(path)
    assert refused.value.code == "policy_invalid"
    assert "TurnOnSecurityKeySignIn = enabled" in refused.value.message


def test_no_policy_file_is_no_policy(tmp_path: Path) -> None:
    assert read_policy(tmp_path / "absent.conf") is None
