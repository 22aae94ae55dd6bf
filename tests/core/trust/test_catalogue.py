"""The authenticator catalogue: MDS names merged with the bundled community AAGUID list (display only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.errors import InvalidInput, PassgateError
from passgate.core.trust import MetadataSnapshot, default_root_der, verify_blob
from passgate.core.trust.catalogue import (
    MAX_ICON_CHARS,
    MICROSOFT_DOCUMENTED,
    UNDISCLOSED_MODEL_NAME,
    ZERO_AAGUID,
    Catalogue,
    CatalogueEntry,
    CommunityListRejected,
    build_catalogue,
    display_name,
    load_community_list,
    safe_icon,
)
from tests.core.trust.test_pki import make_blob, make_entry, make_pki

FIXTURES = Path(__file__).parents[2] / "fixtures" / "mds"
BUNDLED = Path(__file__).parents[3] / "passgate" / "core" / "trust" / "data" / "community-aaguids.json"
NO9_VERIFIED_AT = datetime(2021, 11, 20, 12, 0, tzinfo=UTC)  # inside the 2021 signer's validity, before nextUpdate
TEST_NOW = datetime(2025, 6, 1, tzinfo=UTC)  # inside the test PKI's 2020..2040 validity

# AAGUIDs as the bundled list (passkeydeveloper/passkey-authenticator-aaguids @ 47b6f84) names them.
GOOGLE_PASSWORD_MANAGER = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
APPLE_PASSWORDS = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"  # formerly "iCloud Keychain" upstream
ICLOUD_KEYCHAIN_MANAGED = "dd4ec289-e01d-41c9-bb89-70fa845d4bf2"
ONE_PASSWORD = "bada5566-a7aa-401f-bd96-45619a55120d"
WINDOWS_HELLO_HARDWARE = "08987058-cadc-4b81-b6e1-30de50dcbe96"
CHROMIUM_BROWSER = "b5397666-4885-aa6b-cebf-e52262a439a2"  # listed without icons
YUBIKEY_5_SERIES = "ee882879-721c-4913-9775-3dfcce97072a"  # MDS no.9

SVG = "data:image/svg+xml;base64,PHN2Zy8+"
PNG = "data:image/png;base64,iVBORw0KGgo="


def aaguid_of(key: str) -> str:
    return str(uuid5(NAMESPACE_URL, key))


def entry(name: str, aaguid: str | None = None) -> CatalogueEntry:
    return CatalogueEntry(aaguid=aaguid or aaguid_of(name), name=name, icon_light=None, icon_dark=None,
                          source="community")


def snapshot_of(*entries: dict[str, Any]) -> MetadataSnapshot:
    pki = make_pki("ec")
    return verify_blob(make_blob(list(entries), pki.signer, pki.x5c), root_der=pki.root.der, now=TEST_NOW)


def refused(raw: bytes) -> CommunityListRejected:
    with pytest.raises(CommunityListRejected) as info:
        load_community_list(raw)
    assert isinstance(info.value, PassgateError)
    assert info.value.code == "aaguid_list_invalid"
    assert info.value.message.startswith("community AAGUID list: ")
    return info.value


@pytest.fixture(scope="module")
def bundled() -> Catalogue:
    return build_catalogue(snapshot=None)


@pytest.fixture(scope="module")
def no9() -> MetadataSnapshot:
    return verify_blob((FIXTURES / "mds3-blob-no9-2021-11.jwt").read_bytes(), root_der=default_root_der(),
                       now=NO9_VERIFIED_AT)


@pytest.fixture(scope="module")
def merged(no9: MetadataSnapshot) -> Catalogue:
    return build_catalogue(snapshot=no9, community=load_community_list())


# --- the bundled community list ------------------------------------------------------------------------------------


def test_bundled_list_is_the_upstream_file_and_loads_whole() -> None:
    upstream = json.loads(BUNDLED.read_bytes())
    listed = load_community_list()
    assert len(listed) == len(upstream) == 52
    assert load_community_list(BUNDLED.read_bytes()) == listed
    assert all(set(item) <= {"name", "icon_light", "icon_dark"} for item in listed.values())


def test_synced_providers_are_named_from_the_bundled_list(bundled: Catalogue) -> None:
    expected = {
        GOOGLE_PASSWORD_MANAGER: "Google Password Manager",
        APPLE_PASSWORDS: "Apple Passwords",
        ICLOUD_KEYCHAIN_MANAGED: "iCloud Keychain (Managed)",
        ONE_PASSWORD: "1Password",
        WINDOWS_HELLO_HARDWARE: "Windows Hello",
    }
    for aaguid, name in expected.items():
        found = bundled.lookup(aaguid)
        assert found is not None, name
        assert (found.name, found.source, found.status, found.certification_level) == (name, "community", None, None)
        assert found.icon_light is not None and found.icon_light.startswith("data:image/svg+xml;base64,")
        assert found.icon_dark is not None
    assert [e.name for e in bundled.search("icloud")] == ["iCloud Keychain (Managed)"]
    assert [e.aaguid for e in bundled.search("google password")] == [GOOGLE_PASSWORD_MANAGER]


def test_every_bundled_icon_survives_the_filter(bundled: Catalogue) -> None:
    listed = load_community_list()
    kept = sum((e.icon_light is not None) + (e.icon_dark is not None) for e in bundled.entries)
    assert kept == sum(("icon_light" in item) + ("icon_dark" in item) for item in listed.values()) == 100
    chromium = bundled.lookup(CHROMIUM_BROWSER)
    assert chromium is not None and (chromium.icon_light, chromium.icon_dark, chromium.icon()) == (None, None, None)


def test_lookup_is_case_insensitive_and_takes_uuids(bundled: Catalogue) -> None:
    found = bundled.lookup(GOOGLE_PASSWORD_MANAGER)
    assert found is not None
    assert bundled.lookup(GOOGLE_PASSWORD_MANAGER.upper()) is found
    assert bundled.lookup(f"  {GOOGLE_PASSWORD_MANAGER}\n") is found
    assert bundled.lookup(UUID(GOOGLE_PASSWORD_MANAGER)) is found
    assert bundled.lookup("ea9b8d664d011d213ce4b6b48cb575d4") is None  # only the hyphenated form
    assert bundled.lookup("not an aaguid") is None
    assert bundled.lookup(ZERO_AAGUID) is None


def test_entries_are_sorted_by_name_case_insensitively(bundled: Catalogue) -> None:
    names = [e.name for e in bundled.entries]
    assert names == sorted(names, key=str.casefold)
    assert names.index("iCloud Keychain (Managed)") < names.index("IDmelon") < names.index("initial")


def test_none_means_the_bundled_lists_and_empty_means_none() -> None:
    bundled_only = build_catalogue(snapshot=None, community=load_community_list())
    everything = build_catalogue(snapshot=None)
    assert {e.aaguid for e in everything.entries} == {e.aaguid for e in bundled_only.entries} | set(
        MICROSOFT_DOCUMENTED)  # the bundled community list, and the names Microsoft documents
    assert build_catalogue(snapshot=None, community={}).entries == ()


# --- display names -------------------------------------------------------------------------------------------------


def test_display_name(bundled: Catalogue) -> None:
    assert display_name(bundled, ONE_PASSWORD.upper()) == "1Password"
    assert display_name(bundled, UUID(ONE_PASSWORD)) == "1Password"
    assert display_name(bundled, ZERO_AAGUID) == UNDISCLOSED_MODEL_NAME == "Passkey (model not disclosed)"
    assert display_name(bundled, UUID(int=0)) == UNDISCLOSED_MODEL_NAME
    unknown = "12345678-1234-1234-1234-1234567890AB"
    assert display_name(bundled, unknown) == "Unknown authenticator (AAGUID 12345678-1234-1234-1234-1234567890ab)"
    assert display_name(bundled, "<script>") == "Unknown authenticator"


def test_the_zero_aaguid_is_never_named_by_a_list() -> None:
    catalogue = build_catalogue(snapshot=None, community={ZERO_AAGUID: {"name": "Some Vendor"}})
    assert display_name(catalogue, ZERO_AAGUID) == UNDISCLOSED_MODEL_NAME


# --- MDS over the community list -----------------------------------------------------------------------------------


def test_mds_name_status_and_level_win_over_the_community_list() -> None:
    snapshot = snapshot_of(
        make_entry(aaguid=ONE_PASSWORD, description="  Vendor   Certified\tKey ", icon=PNG,
                   statuses=(("FIDO_CERTIFIED_L2", "2021-01-01"),)),
        make_entry(aaguid=GOOGLE_PASSWORD_MANAGER, description="MDS name, no icon", icon=None),
        make_entry(key_identifiers=["a" * 40], description="A U2F key: no AAGUID, not catalogued"),
    )
    catalogue = build_catalogue(snapshot=snapshot)
    one = catalogue.lookup(ONE_PASSWORD)
    assert one == CatalogueEntry(aaguid=ONE_PASSWORD, name="Vendor Certified Key", icon_light=PNG, icon_dark=PNG,
                                 source="mds", certification_level="FIDO_CERTIFIED_L2", status="FIDO_CERTIFIED_L2")
    google = catalogue.lookup(GOOGLE_PASSWORD_MANAGER)
    listed = load_community_list()[GOOGLE_PASSWORD_MANAGER]
    assert google is not None and google.source == "mds" and google.name == "MDS name, no icon"
    assert (google.icon_light, google.icon_dark) == (listed["icon_light"], listed["icon_dark"])  # completed
    assert len(catalogue.entries) == 52 + len(MICROSOFT_DOCUMENTED)  # two replaced, the U2F entry skipped
    assert display_name(catalogue, ONE_PASSWORD) == "Vendor Certified Key"
    assert catalogue.search("vendor certified key") == (one,)
    assert catalogue.search("1password") == ()


def test_mds_descriptions_are_cleaned_for_display() -> None:
    aaguid = "11111111-2222-4333-8444-555555555555"
    snapshot = snapshot_of(make_entry(aaguid=aaguid, description="Key\u202e\u0000yeK" + " x" * 150))
    found = build_catalogue(snapshot=snapshot, community={}).lookup(aaguid)
    assert found is not None
    assert found.name.startswith("Key\N{REPLACEMENT CHARACTER}\N{REPLACEMENT CHARACTER}yeK x x")
    assert len(found.name) == 200 and found.name.endswith("\N{HORIZONTAL ELLIPSIS}")


def test_revoked_mds_entries_stay_visible_with_their_status() -> None:
    aaguid = "11111111-2222-4333-8444-555555555555"
    snapshot = snapshot_of(make_entry(aaguid=aaguid, description="Recalled Key",
                                      statuses=(("FIDO_CERTIFIED_L1", "2021-01-01"), ("REVOKED", "2022-01-01"))))
    found = build_catalogue(snapshot=snapshot, community={}).lookup(aaguid.upper())
    assert found is not None
    assert (found.status, found.certification_level) == ("REVOKED", "FIDO_CERTIFIED_L1")


def test_real_mds_blob_no9_merged_with_the_community_list(merged: Catalogue, no9: MetadataSnapshot) -> None:
    fido2 = [e for e in no9.entries if e.aaguid is not None]
    assert len(fido2) == 46
    assert len(merged.entries) == 94  # 46 MDS + 52 community - 4 AAGUIDs in both
    assert sum(e.source == "mds" for e in merged.entries) == 46
    names = [e.name for e in merged.search("yubikey 5")]
    assert "YubiKey 5 Series" in names
    assert all(name.casefold().startswith("yubikey 5") for name in names)
    yubikey = merged.lookup(YUBIKEY_5_SERIES)
    assert yubikey is not None and yubikey.name == "YubiKey 5 Series" and yubikey.source == "mds"
    assert yubikey.status == "FIDO_CERTIFIED_L1" and yubikey.icon_light is not None
    assert yubikey.icon_light.startswith("data:image/png;base64,")
    # MDS names the Windows Hello AAGUIDs more precisely than the community list does
    hello = merged.lookup(WINDOWS_HELLO_HARDWARE)
    assert hello is not None and hello.name == "Windows Hello Hardware Authenticator" and hello.source == "mds"
    google = merged.lookup(GOOGLE_PASSWORD_MANAGER)
    assert google is not None and google.source == "community"
    # "YubiKey  5 Series" (two spaces in MDS) is normalised, so it is found and sorts with its twin
    twins = [e for e in merged.entries if e.name == "YubiKey 5 Series"]
    assert len(twins) == 2


# --- search ---------------------------------------------------------------------------------------------------------


def test_search_order_exact_then_prefix_then_alphabetical() -> None:
    catalogue = Catalogue(entries=(
        entry("Security Key NFC"), entry("My YubiKey"), entry("yubikey 5 series"), entry("YubiKey Bio"),
        entry("YubiKey 5 Series"), entry("Another YubiKey 5 Series clone"), entry("YubiKey 5 Series with NFC"),
    ))
    assert [e.name for e in catalogue.search("YUBIKEY 5 series")] == [
        "YubiKey 5 Series", "yubikey 5 series",  # exact (case-insensitively); ties broken by code point
        "YubiKey 5 Series with NFC",  # prefix
        "Another YubiKey 5 Series clone",  # contains
    ]
    assert [e.name for e in catalogue.search("yubikey")] == [
        "YubiKey 5 Series", "yubikey 5 series", "YubiKey 5 Series with NFC", "YubiKey Bio",
        "Another YubiKey 5 Series clone", "My YubiKey",
    ]
    assert [e.name for e in catalogue.search("  yubikey   bio ")] == ["YubiKey Bio"]
    assert [e.name for e in catalogue.search("yubikey", limit=2)] == ["YubiKey 5 Series", "yubikey 5 series"]
    assert catalogue.search("yubikey", limit=0) == ()
    assert catalogue.search("nothing like it") == ()
    assert catalogue.search("") == catalogue.entries[:20]
    assert catalogue.search("", limit=100) == catalogue.entries


def test_search_rejects_a_negative_limit(bundled: Catalogue) -> None:
    with pytest.raises(InvalidInput):
        bundled.search("a", limit=-1)


def test_search_default_limit_is_twenty(bundled: Catalogue) -> None:
    assert len(bundled.search("")) == 20
    assert len(bundled.search("", limit=1000)) == 52 + len(MICROSOFT_DOCUMENTED)


def test_a_catalogue_refuses_duplicate_aaguids() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        Catalogue(entries=(entry("A", ONE_PASSWORD), entry("B", ONE_PASSWORD)))


# --- icons ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("icon", [
    "https://example.com/icon.png",
    "http://example.com/icon.svg",
    "//example.com/icon.svg",
    "data:text/html;base64,PHNjcmlwdD4=",
    "data:image/svg+xml,<svg onload=alert(1)>",  # not base64
    "data:image/png;base64,AAAA\" onerror=\"x",
    "javascript:alert(1)",
    "",
    "data:image/png;base64," + "A" * MAX_ICON_CHARS,  # too large
])
def test_unsafe_icons_are_dropped(icon: str) -> None:
    catalogue = build_catalogue(snapshot=None, community={ONE_PASSWORD: {"name": "1P", "icon_light": icon,
                                                                          "icon_dark": SVG}})
    found = catalogue.lookup(ONE_PASSWORD)
    assert found is not None
    assert (found.icon_light, found.icon_dark) == (None, SVG)
    assert found.icon() == found.icon(dark=True) == SVG  # falls back to the other variant


def test_remote_mds_icons_are_dropped_too() -> None:
    snapshot = snapshot_of(make_entry(aaguid=ONE_PASSWORD, description="Remote icon", icon="https://example.com/x.png"))
    found = build_catalogue(snapshot=snapshot, community={}).lookup(ONE_PASSWORD)
    assert found is not None and (found.icon_light, found.icon_dark) == (None, None)


def test_safe_icon_accepts_data_image_urls_up_to_the_cap() -> None:
    at_cap = "data:image/png;base64," + "A" * (MAX_ICON_CHARS - len("data:image/png;base64,"))
    assert safe_icon(at_cap) == at_cap
    assert safe_icon(SVG) == SVG
    assert safe_icon("DATA:IMAGE/PNG;BASE64,iVBO") == "DATA:IMAGE/PNG;BASE64,iVBO"
    assert safe_icon(None) is None
    assert safe_icon(42) is None


# --- malformed community lists ---------------------------------------------------------------------------------------


G = b'{"' + GOOGLE_PASSWORD_MANAGER.encode() + b'": '  # opens a list with one entry for Google Password Manager


@pytest.mark.parametrize(("raw", "says"), [
    (b"", "not UTF-8 JSON"),
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b"{not json", "not UTF-8 JSON"),
    (G + b'{"name": NaN}}', "not UTF-8 JSON"),
    (b"[]", "expected a JSON object mapping AAGUIDs to entries, got list"),
    (b'"text"', "got str"),
    (b'{"google": {"name": "G"}}', "the key 'google' is not a hyphenated AAGUID"),
    (b'{"ea9b8d664d011d213ce4b6b48cb575d4": {"name": "G"}}', "is not a hyphenated AAGUID"),
    (G + b'"Google"}', f"the entry for {GOOGLE_PASSWORD_MANAGER} is not an object"),
    (G + b'{}}', "has no string 'name'"),
    (G + b'{"name": 7}}', "has no string 'name'"),
    (G + b'{"name": "  "}}', "has an empty 'name'"),
    (G + b'{"name": "G\\u0000"}}', "contains control or bidirectional-override characters"),
    (G + b'{"name": "\\u202egoogle"}}', "contains control or bidirectional-override characters"),
    (G + b'{"name": "' + b"x" * 201 + b'"}}', "more than 200"),
    (G + b'{"name": "G", "icon_dark": ["x"]}}', "'icon_dark' of"),
    (G + b'{"name": "G"}, "' + GOOGLE_PASSWORD_MANAGER.encode() + b'": {"name": "H"}}', "appears twice"),
    (G + b'{"name": "G"}, "' + GOOGLE_PASSWORD_MANAGER.upper().encode() + b'": {"name": "H"}}', "listed twice"),
    (b"[" * 100_000 + b"]" * 100_000, "not UTF-8 JSON"),
])
def test_malformed_community_lists_are_refused_with_a_clear_message(raw: bytes, says: str) -> None:
    assert says in refused(raw).message


def test_an_oversized_community_list_is_refused_before_parsing() -> None:
    assert "more than the limit" in refused(b" " * (8 * 1024 * 1024 + 1)).message


def test_a_malformed_mapping_is_refused_by_build_catalogue_too() -> None:
    with pytest.raises(CommunityListRejected, match="not a hyphenated AAGUID"):
        build_catalogue(snapshot=None, community={"x": {"name": "X"}})
    with pytest.raises(CommunityListRejected, match="no string 'name'"):
        build_catalogue(snapshot=None, community={ONE_PASSWORD: {"title": "X"}})


def test_a_good_list_is_normalised_and_read_only() -> None:
    listed = load_community_list(json.dumps({
        ONE_PASSWORD.upper(): {"name": " 1Password\n(beta) ", "icon_light": SVG, "icon_dark": None, "url": "x"},
    }).encode())
    assert dict(listed) == {ONE_PASSWORD: {"name": "1Password (beta)", "icon_light": SVG}}
    with pytest.raises(TypeError):
        listed[ONE_PASSWORD] = {}  # type: ignore[index]


def test_a_bad_refresh_leaves_the_good_list_in_use() -> None:
    good = load_community_list()
    in_use = good
    try:
        in_use = load_community_list(b'{"broken": true}')
    except CommunityListRejected:
        pass
    assert in_use is good
    assert build_catalogue(snapshot=None, community=in_use).lookup(ONE_PASSWORD) is not None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=40), inner, max_size=4),
    max_leaves=20,
)
_item = st.fixed_dictionaries({"name": st.text(max_size=30)},
                              optional={"icon_light": st.text(max_size=40) | st.sampled_from([SVG, PNG]),
                                        "icon_dark": _json})
_nearly_valid = st.dictionaries(st.uuids().map(str) | st.text(max_size=40), _item | _json, max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_json, _nearly_valid))
def test_random_json_either_loads_or_is_refused_with_the_typed_error(value: Any) -> None:
    try:
        listed = load_community_list(json.dumps(value).encode())
    except CommunityListRejected:
        return
    catalogue = build_catalogue(snapshot=None, community=listed)
    assert len(catalogue.entries) == len(listed)
    for found in catalogue.entries:
        assert found.name and found.name == found.name.strip()
        assert found.icon_light is None or found.icon_light.startswith(("data:image/", "DATA:IMAGE/"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256))
def test_random_bytes_never_escape_as_another_error(raw: bytes) -> None:
    try:
        load_community_list(raw)
    except CommunityListRejected:
        pass


def test_aaguids_named_finds_every_aaguid_of_a_model() -> None:
    from passgate.core.trust.catalogue import build_catalogue

    known = build_catalogue(snapshot=None)
    assert known.aaguids_named("  GOOGLE password   manager ") == ("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",)
    assert known.aaguids_named("No Such Model") == ()


def test_microsoft_authenticator_passkeys_have_their_names(bundled: Catalogue) -> None:
    """Issue 14 item 7: Microsoft documents these AAGUIDs for Entra passkeys in Microsoft Authenticator; neither
    FIDO MDS nor the community list names them, so the catalogue does (display only)."""
    assert display_name(bundled, "de1e552d-db1d-4423-a619-566b625cdc84") == "Microsoft Authenticator (Android)"
    assert display_name(bundled, "90A3CCDF-635C-4729-A248-9B709135078F") == "Microsoft Authenticator (iOS)"
    found = bundled.search("microsoft authenticator")
    assert {e.aaguid for e in found} >= {"de1e552d-db1d-4423-a619-566b625cdc84", "90a3ccdf-635c-4729-a248-9b709135078f"}
    assert {e.source for e in found if e.name.startswith("Microsoft Authenticator")} == {"microsoft"}
    assert bundled.aaguids_named("Microsoft Authenticator (iOS)") == ("90a3ccdf-635c-4729-a248-9b709135078f",)


def test_mds_wins_over_the_microsoft_names() -> None:
    snapshot = snapshot_of(make_entry(aaguid="de1e552d-db1d-4423-a619-566b625cdc84",
                                      description="Authenticator as MDS names it"))
    catalogue = build_catalogue(snapshot=snapshot)
    assert display_name(catalogue, "de1e552d-db1d-4423-a619-566b625cdc84") == "Authenticator as MDS names it"
    assert display_name(catalogue, "90a3ccdf-635c-4729-a248-9b709135078f") == "Microsoft Authenticator (iOS)"
