"""The metadata store: import verified BLOBs with their history, refuse rollbacks and bad BLOBs without changing
what is in force, audit every outcome; the CLI's mds import/status."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.cli import main
from passgate.core.errors import Conflict, InvalidInput
from passgate.core.trust.errors import MetadataRejected
from passgate.trust_store import selectors
from passgate.trust_store.models import MetadataBlob
from passgate.trust_store.services import mds_download, mds_import
from tests.core.trust.test_pki import make_blob, make_entries, make_pki

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = Actor.system("mds test")


@pytest.fixture
def pki(settings: Any, tmp_path: Path) -> Any:
    pki = make_pki()
    root = tmp_path / "root.der"
    root.write_bytes(pki.root.cert.public_bytes(serialization.Encoding.DER))
    settings.PASSGATE_MDS_ROOT = str(root)
    return pki


def blob(pki: Any, no: int, count: int = 3, **kwargs: Any) -> bytes:
    return make_blob(make_entries(count), pki.signer, pki.x5c, no=no, **kwargs)


def test_import_keeps_history_and_the_highest_is_in_force(pki: Any) -> None:
    row, snapshot = mds_import(blob=blob(pki, 5), source="a.jwt", actor=ADMIN)
    assert (row.no, row.entries, snapshot.stale) == (5, 3, False)
    mds_import(blob=blob(pki, 6, count=4), source="b.jwt", actor=ADMIN)
    assert list(MetadataBlob.objects.values_list("no", flat=True)) == [6, 5]
    current = selectors.current_snapshot()
    assert current is not None and current.no == 6 and len(current.entries) == 4
    assert AuditEvent.objects.filter(activity="mds.import", result="success").count() == 2


def test_a_rollback_is_refused_and_changes_nothing(pki: Any) -> None:
    mds_import(blob=blob(pki, 9), source="a.jwt", actor=ADMIN)
    with pytest.raises(MetadataRejected) as err:
        mds_import(blob=blob(pki, 8), source="old.jwt", actor=ADMIN)
    assert err.value.code == "rollback"
    assert selectors.current_snapshot().no == 9  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(activity="mds.import", result="failure", reason="rollback").exists()


def test_the_same_blob_again_is_a_no_op_and_another_with_the_same_number_is_refused(pki: Any) -> None:
    first = blob(pki, 3)
    mds_import(blob=first, source="a.jwt", actor=ADMIN)
    mds_import(blob=first, source="a.jwt", actor=ADMIN)
    assert MetadataBlob.objects.count() == 1
    with pytest.raises(Conflict):
        mds_import(blob=blob(pki, 3, count=5), source="b.jwt", actor=ADMIN)


@pytest.mark.parametrize("bad", [b"", b"not a jws", b"a.b.c", b"x" * 100])
def test_bad_blobs_are_refused_with_a_reason(pki: Any, bad: bytes) -> None:
    mds_import(blob=blob(pki, 1), source="good.jwt", actor=ADMIN)
    with pytest.raises(MetadataRejected):
        mds_import(blob=bad, source="bad.jwt", actor=ADMIN)
    assert MetadataBlob.objects.count() == 1


def test_a_tampered_blob_is_refused(pki: Any) -> None:
    header, payload, signature = blob(pki, 2).split(b".")
    with pytest.raises(MetadataRejected) as err:
        mds_import(blob=b".".join([header, payload[:-4] + b"AAAA", signature]), source="t.jwt", actor=ADMIN)
    assert err.value.code in {"bad_signature", "malformed_blob"}


def test_a_blob_past_next_update_is_imported_but_stale(pki: Any) -> None:
    _, snapshot = mds_import(blob=blob(pki, 4, next_update=date(2020, 1, 1)), source="s.jwt", actor=ADMIN)
    assert snapshot.stale


def test_the_shipped_root_refuses_a_blob_signed_elsewhere(settings: Any) -> None:
    settings.PASSGATE_MDS_ROOT = ""  # GlobalSign Root R3, shipped with Passgate
    pki = make_pki()
    with pytest.raises(MetadataRejected) as err:
        mds_import(blob=make_blob(make_entries(1), pki.signer, pki.x5c, no=1), source="x.jwt", actor=ADMIN)
    assert err.value.code == "untrusted_chain"


def test_the_real_2021_blob_is_refused_today_as_expired(settings: Any) -> None:
    settings.PASSGATE_MDS_ROOT = ""
    real = (Path(__file__).parent.parent / "fixtures/mds/mds3-blob-no9-2021-11.jwt").read_bytes()
    with pytest.raises(MetadataRejected) as err:
        mds_import(blob=real, source="mds3-blob-no9-2021-11.jwt", actor=ADMIN)
    assert err.value.code == "certificate_expired" and "2022-05-14" in err.value.message


def test_download_refuses_other_schemes_and_reads_files(pki: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="https"):
        mds_download("http://example.com/blob")
    path = tmp_path / "blob.jwt"
    path.write_bytes(blob(pki, 1))
    assert mds_download(path.as_uri()) == path.read_bytes()
    with pytest.raises(InvalidInput, match="larger"):
        mds_download(path.as_uri(), max_bytes=10)


def test_cli_import_and_status(pki: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "blob.jwt"
    path.write_bytes(blob(pki, 7, count=2))
    assert main(["mds", "status"]) == 0
    assert "No metadata BLOB imported yet" in capsys.readouterr().out
    assert main(["mds", "import", str(path)]) == 0
    assert "no=7 in force: 2 authenticator models" in capsys.readouterr().out
    assert main(["mds", "status", "--json"]) == 0
    assert '"no": 7' in capsys.readouterr().out
    bad = tmp_path / "bad.jwt"
    bad.write_bytes(b"garbage")
    assert main(["mds", "import", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("passgate: error: not a compact JWS")
    assert main(["mds", "import", str(tmp_path / "missing.jwt")]) == 1


def test_a_configured_root_that_is_not_a_certificate_is_a_clear_error(settings: Any, tmp_path: Path) -> None:
    bad = tmp_path / "root.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    settings.PASSGATE_MDS_ROOT = str(bad)
    with pytest.raises(InvalidInput) as err:
        mds_import(blob=b"a.b.c", source="x", actor=ADMIN)
    assert err.value.code == "invalid_mds_root"
    assert not MetadataBlob.objects.exists()
