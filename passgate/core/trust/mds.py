"""FIDO Metadata Service v3: what a verified metadata BLOB says, as an immutable, indexed snapshot.

``blob.verify_blob`` verifies a BLOB (the signed container) and ``_entries`` parses its payload; this module holds
the values they produce and every caller reads: statuses, certification levels, entries and the snapshot with its
lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum, unique
from types import MappingProxyType
from typing import Final


@unique
class AuthenticatorStatus(StrEnum):
    """FIDO MDS3 ``AuthenticatorStatus`` values (FIDO Metadata Service v3 §3.1.4)."""

    NOT_FIDO_CERTIFIED = "NOT_FIDO_CERTIFIED"
    FIDO_CERTIFIED = "FIDO_CERTIFIED"
    USER_VERIFICATION_BYPASS = "USER_VERIFICATION_BYPASS"
    ATTESTATION_KEY_COMPROMISE = "ATTESTATION_KEY_COMPROMISE"
    USER_KEY_REMOTE_COMPROMISE = "USER_KEY_REMOTE_COMPROMISE"
    USER_KEY_PHYSICAL_COMPROMISE = "USER_KEY_PHYSICAL_COMPROMISE"
    UPDATE_AVAILABLE = "UPDATE_AVAILABLE"
    REVOKED = "REVOKED"
    SELF_ASSERTION_SUBMITTED = "SELF_ASSERTION_SUBMITTED"
    RETIRED = "RETIRED"
    FIDO_CERTIFIED_L1 = "FIDO_CERTIFIED_L1"
    FIDO_CERTIFIED_L1PLUS = "FIDO_CERTIFIED_L1plus"
    FIDO_CERTIFIED_L2 = "FIDO_CERTIFIED_L2"
    FIDO_CERTIFIED_L2PLUS = "FIDO_CERTIFIED_L2plus"
    FIDO_CERTIFIED_L3 = "FIDO_CERTIFIED_L3"
    FIDO_CERTIFIED_L3PLUS = "FIDO_CERTIFIED_L3plus"
    FIPS140_CERTIFIED_L1 = "FIPS140_CERTIFIED_L1"
    FIPS140_CERTIFIED_L2 = "FIPS140_CERTIFIED_L2"
    FIPS140_CERTIFIED_L3 = "FIPS140_CERTIFIED_L3"
    FIPS140_CERTIFIED_L4 = "FIPS140_CERTIFIED_L4"


_S = AuthenticatorStatus

UNTRUSTED_STATUSES: Final = frozenset({
    _S.REVOKED,
    _S.ATTESTATION_KEY_COMPROMISE,
    _S.USER_VERIFICATION_BYPASS,
    _S.USER_KEY_REMOTE_COMPROMISE,
    _S.USER_KEY_PHYSICAL_COMPROMISE,
})


@unique
class CertificationLevel(StrEnum):
    """FIDO Authenticator Certification level, lowest first (values are the matching status names)."""

    L1 = "FIDO_CERTIFIED_L1"
    L1PLUS = "FIDO_CERTIFIED_L1plus"
    L2 = "FIDO_CERTIFIED_L2"
    L2PLUS = "FIDO_CERTIFIED_L2plus"
    L3 = "FIDO_CERTIFIED_L3"
    L3PLUS = "FIDO_CERTIFIED_L3plus"

    @property
    def rank(self) -> int:
        """0 for L1 ... 5 for L3+: compare levels with this."""
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER: Final = tuple(CertificationLevel)
# The deprecated plain FIDO_CERTIFIED status means level 1 (MDS3 §3.1.4).
_STATUS_LEVEL: Final[Mapping[AuthenticatorStatus, CertificationLevel]] = MappingProxyType(
    {_S.FIDO_CERTIFIED: CertificationLevel.L1} | {_S(level.value): level for level in CertificationLevel}
)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One ``statusReports`` element of an entry."""

    status: AuthenticatorStatus
    effective_date: date | None = None
    authenticator_version: int | None = None
    certificate_number: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class MetadataEntry:
    """One authenticator model of the BLOB, reduced to what trust and display decisions use.

    ``status`` is the status report with the latest ``effectiveDate`` (on a tie, an untrusted status wins,
    then the later one in the list). ``certification_level`` is the highest FIDO certification level any
    report grants (plain ``FIDO_CERTIFIED`` counts as L1), or ``None``; it is not withdrawn by a later
    REVOKED report: check ``status`` against ``UNTRUSTED_STATUSES`` for that.
    ``user_verification_details`` is the statement's OR-list of AND-combinations of method names.
    """

    aaguid: str | None
    aaid: str | None
    attestation_certificate_key_identifiers: tuple[str, ...]
    description: str | None
    icon: str | None
    status: AuthenticatorStatus
    status_effective_date: date | None
    status_reports: tuple[StatusReport, ...]
    time_of_last_status_change: date
    certification_level: CertificationLevel | None
    attestation_root_certificates: tuple[bytes, ...] = ()
    key_protection: tuple[str, ...] = ()
    user_verification_details: tuple[tuple[str, ...], ...] = ()
    authenticator_version: int | None = None


@dataclass(frozen=True)
class MetadataSnapshot:
    """A verified BLOB. Lookups are dictionary reads on maps built once, at construction."""

    no: int
    next_update: date
    legal_header: str
    stale: bool
    entries: tuple[MetadataEntry, ...]
    _by_aaguid: Mapping[str, MetadataEntry] = field(init=False, repr=False, compare=False)
    _by_key_identifier: Mapping[str, MetadataEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_aaguid: dict[str, MetadataEntry] = {}
        by_key_identifier: dict[str, MetadataEntry] = {}
        for entry in self.entries:
            if entry.aaguid is not None:
                by_aaguid.setdefault(entry.aaguid, entry)
            for key_identifier in entry.attestation_certificate_key_identifiers:
                by_key_identifier.setdefault(key_identifier, entry)
        object.__setattr__(self, "_by_aaguid", MappingProxyType(by_aaguid))
        object.__setattr__(self, "_by_key_identifier", MappingProxyType(by_key_identifier))

    def by_aaguid(self, aaguid: str) -> MetadataEntry | None:
        """The entry for an AAGUID in any letter case (``None`` if absent or not an AAGUID)."""
        return self._by_aaguid.get(aaguid.lower())

    def by_key_identifier(self, key_identifier: str) -> MetadataEntry | None:
        """The entry listing this attestation certificate key identifier (hex SHA-1 of the public key)."""
        return self._by_key_identifier.get(key_identifier.lower())
