"""The payload of an MDS3 BLOB (FIDO Metadata Service v3 §3.1): its fields and every entry, checked and reduced to
``mds.MetadataEntry`` values. ``blob.verify_blob`` calls it once the signed container has verified."""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from passgate.core.trust.errors import MetadataRejectReason, reject, short
from passgate.core.trust.mds import (
    _STATUS_LEVEL,
    UNTRUSTED_STATUSES,
    AuthenticatorStatus,
    CertificationLevel,
    MetadataEntry,
    StatusReport,
)

_R = MetadataRejectReason


# --- payload ---------------------------------------------------------------------------------------------------

_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_AAGUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX: Final = re.compile(r"(?:[0-9a-fA-F]{2})+")


class _Bad(Exception):
    """An entry field problem; turned into MALFORMED_ENTRY with the entry's position."""


def payload_fields(payload: Mapping[str, object]) -> tuple[int, date, str, list[object]]:
    no = payload.get("no")
    if not isinstance(no, int) or isinstance(no, bool) or no < 0:
        reject(_R.MALFORMED_BLOB, "the payload's 'no' is missing or not a non-negative integer")
    try:
        next_update = _date(payload.get("nextUpdate"), "nextUpdate", required=True)
    except _Bad as exc:
        reject(_R.MALFORMED_BLOB, f"the payload's {exc}")
    assert next_update is not None  # noqa: S101 - required=True
    legal_header = payload.get("legalHeader")
    if not isinstance(legal_header, str):
        reject(_R.MALFORMED_BLOB, "the payload's 'legalHeader' is missing or not a string")
    entries = payload.get("entries")
    if not isinstance(entries, list):
        reject(_R.MALFORMED_BLOB, "the payload's 'entries' is missing or not a list")
    return no, next_update, legal_header, entries


def _date(value: object, name: str, *, required: bool = False) -> date | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise _Bad(f"'{name}' is missing or not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(f"'{name}' is not a real date: {value!r}") from None


def _opt_str(obj: Mapping[str, object], name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise _Bad(f"'{name}' is not a string")
    return value


def _opt_int(obj: Mapping[str, object], name: str) -> int | None:
    value = obj.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Bad(f"'{name}' is not an integer")
    return value


def _list(obj: Mapping[str, object], name: str, *, required: bool = False) -> list[object]:
    value = obj.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise _Bad(f"'{name}' is missing or not a list")
    return value


def _str_tuple(obj: Mapping[str, object], name: str) -> tuple[str, ...]:
    items = _list(obj, name)
    if not all(isinstance(item, str) for item in items):
        raise _Bad(f"'{name}' is not a list of strings")
    return tuple(str(item) for item in items)


def _aaguid(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or _AAGUID.fullmatch(value) is None:
        raise _Bad(f"{where} 'aaguid' is not a hyphenated UUID")
    return value.lower()


def _key_identifiers(obj: Mapping[str, object]) -> tuple[str, ...]:
    items = _list(obj, "attestationCertificateKeyIdentifiers")
    if not all(isinstance(item, str) and _HEX.fullmatch(item) for item in items):
        raise _Bad("'attestationCertificateKeyIdentifiers' is not a list of hex strings")
    return tuple(str(item).lower() for item in items)


def _status_report(raw: object, index: int) -> StatusReport:
    if not isinstance(raw, dict):
        raise _Bad(f"statusReports[{index}] is not an object")
    status = raw.get("status")
    try:
        if not isinstance(status, str):
            raise ValueError(status)
        parsed = AuthenticatorStatus(status)
    except ValueError:
        raise _Bad(f"statusReports[{index}] has unknown status {short(status)!r}") from None
    try:
        return StatusReport(
            status=parsed,
            effective_date=_date(raw.get("effectiveDate"), "effectiveDate"),
            authenticator_version=_opt_int(raw, "authenticatorVersion"),
            certificate_number=_opt_str(raw, "certificateNumber"),
            url=_opt_str(raw, "url"),
        )
    except _Bad as exc:
        raise _Bad(f"statusReports[{index}]: {exc}") from None


def _latest(reports: Sequence[StatusReport]) -> StatusReport:
    return max(
        enumerate(reports),
        key=lambda item: (item[1].effective_date or date.min, item[1].status in UNTRUSTED_STATUSES, item[0]),
    )[1]


def _certification_level(reports: Sequence[StatusReport]) -> CertificationLevel | None:
    levels = [_STATUS_LEVEL[r.status] for r in reports if r.status in _STATUS_LEVEL]
    return max(levels, key=lambda level: level.rank) if levels else None


def _root_certificates(statement: Mapping[str, object]) -> tuple[bytes, ...]:
    ders = []
    for index, item in enumerate(_list(statement, "attestationRootCertificates", required=True)):
        try:
            if not isinstance(item, str):
                raise ValueError("not a string")
            # Real BLOBs wrap some of these in spaces/newlines (PEM habits): whitespace is not data.
            der = base64.b64decode("".join(item.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Bad(f"attestationRootCertificates[{index}] is not base64: {short(exc)}") from None
        # Only the outer DER SEQUENCE is checked here: a vendor certificate that a stricter cryptography release
        # refuses (no.9 carries one with a non-positive serial) must fail that vendor's attestation, not the BLOB.
        if der[:1] != b"\x30":
            raise _Bad(f"attestationRootCertificates[{index}] is not a DER certificate")
        ders.append(der)
    return tuple(ders)


def _user_verification_details(statement: Mapping[str, object]) -> tuple[tuple[str, ...], ...]:
    combinations = []
    for combination in _list(statement, "userVerificationDetails"):
        if not isinstance(combination, list):
            raise _Bad("'userVerificationDetails' is not a list of lists")
        methods = []
        for descriptor in combination:
            method = descriptor.get("userVerificationMethod") if isinstance(descriptor, dict) else None
            if not isinstance(method, str):
                raise _Bad("a 'userVerificationDetails' descriptor has no string 'userVerificationMethod'")
            methods.append(method)
        combinations.append(tuple(methods))
    return tuple(combinations)


def entry(index: int, raw: object) -> MetadataEntry:
    label = f"entries[{index}]"
    try:
        if not isinstance(raw, dict):
            raise _Bad("not an object")
        statement = raw.get("metadataStatement")
        if statement is not None and not isinstance(statement, dict):
            raise _Bad("'metadataStatement' is not an object")
        aaguid = _aaguid(raw.get("aaguid"), "the entry's")
        if statement is not None:
            label = f"entries[{index}] ({short(statement.get('description'))})"
            statement_aaguid = _aaguid(statement.get("aaguid"), "the statement's")
            if aaguid is not None and statement_aaguid is not None and aaguid != statement_aaguid:
                raise _Bad(f"entry aaguid {aaguid} differs from statement aaguid {statement_aaguid}")
            aaguid = aaguid or statement_aaguid
        elif aaguid is not None:
            label = f"entries[{index}] ({aaguid})"
        reports_raw = _list(raw, "statusReports", required=True)
        if not reports_raw:
            raise _Bad("'statusReports' is empty")
        reports = tuple(_status_report(report, i) for i, report in enumerate(reports_raw))
        last_change = _date(raw.get("timeOfLastStatusChange"), "timeOfLastStatusChange", required=True)
        assert last_change is not None  # noqa: S101 - required=True
        key_identifiers = _key_identifiers(raw)
        latest = _latest(reports)
        description: str | None = None
        icon: str | None = None
        roots: tuple[bytes, ...] = ()
        key_protection: tuple[str, ...] = ()
        user_verification: tuple[tuple[str, ...], ...] = ()
        version: int | None = None
        if statement is not None:
            description = statement.get("description")
            if not isinstance(description, str):
                raise _Bad("the statement's 'description' is missing or not a string")
            icon = _opt_str(statement, "icon")
            icon = icon if icon is not None and icon.startswith("data:") else None
            key_identifiers = key_identifiers or _key_identifiers(statement)
            roots = _root_certificates(statement)
            key_protection = _str_tuple(statement, "keyProtection")
            user_verification = _user_verification_details(statement)
            version = _opt_int(statement, "authenticatorVersion")
        return MetadataEntry(
            aaguid=aaguid,
            aaid=_opt_str(raw, "aaid"),
            attestation_certificate_key_identifiers=key_identifiers,
            description=description,
            icon=icon,
            status=latest.status,
            status_effective_date=latest.effective_date,
            status_reports=reports,
            time_of_last_status_change=last_change,
            certification_level=_certification_level(reports),
            attestation_root_certificates=roots,
            key_protection=key_protection,
            user_verification_details=user_verification,
            authenticator_version=version,
        )
    except _Bad as exc:
        reject(_R.MALFORMED_ENTRY, f"{label}: {exc}")


def check_duplicates(entries: Sequence[MetadataEntry]) -> None:
    aaguids = Counter(entry.aaguid for entry in entries if entry.aaguid is not None)
    key_ids = Counter(key for entry in entries for key in entry.attestation_certificate_key_identifiers)
    for what, counts in (("AAGUID", aaguids), ("attestation key identifier", key_ids)):
        duplicates = sorted(value for value, count in counts.items() if count > 1)
        if duplicates:
            reject(_R.MALFORMED_ENTRY, f"{what} listed by more than one entry: {', '.join(duplicates[:5])}")
