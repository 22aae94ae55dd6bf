"""The client's address and scheme behind trusted proxies (passgate.core.net): examples, then properties."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from passgate.core.errors import InvalidInput
from passgate.core.net import address, client_address, forwarded_scheme, parse_networks

TRUSTED = parse_networks("10.0.0.0/8, 2001:db8:1::/48, 192.0.2.7")
LB = "10.0.0.5"  # the load balancer: the direct peer
CLIENT = "203.0.113.9"
ATTACKER = "198.51.100.66"


def who(peer: str | None = LB, xff: str | None = None, fwd: str | None = None) -> str | None:
    return client_address(peer, trusted=TRUSTED, x_forwarded_for=xff, forwarded=fwd)


# --- settings -------------------------------------------------------------------------------------------------------

def test_networks_parse_cidrs_and_single_addresses() -> None:
    assert [str(n) for n in parse_networks(" 10.0.0.0/8,192.0.2.7 , 2001:db8::/32,,::ffff:0:0/96")] == [
        "10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "0.0.0.0/0"]
    assert parse_networks("") == ()


@pytest.mark.parametrize("raw", ["10.0.0/8", "10.0.0.1/8", "example.com", "10.0.0.0/33", "*", "10.0.0.0/8;1.2.3.4",
                                 "::1/129", "\u0661\u0660.0.0.0/8"])
def test_a_malformed_network_is_refused_by_name(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_networks(f"192.0.2.0/24, {raw}")
    assert raw in refused.value.message and refused.value.code == "invalid_network"


# --- addresses ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.1", "192.0.2.1"), (" 192.0.2.1:4711 ", "192.0.2.1"), ("2001:db8::1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"), ("[2001:db8::1]:443", "2001:db8::1"), ("::ffff:192.0.2.1", "192.0.2.1"),
    ("fe80::1%eth0", "fe80::1"), ("2001:DB8:0::1", "2001:db8::1"),
    ("unknown", None), ("_hidden", None), ("", None), ("192.0.2.1:", None), ("192.0.2.1:http", None),
    ("[2001:db8::1", None), ("[2001:db8::1]x", None), ("192.0.2.256", None), ("192.0.2.1:8:8", None),
    ("\uff11\uff19\uff12.0.2.1", None), (None, None), (42, None),
])
def test_address_forms(text: object, expected: str | None) -> None:
    found = address(text)
    assert (str(found) if found is not None else None) == expected


# --- the client's address -------------------------------------------------------------------------------------------

def test_an_untrusted_peer_is_the_client_whatever_it_says() -> None:
    assert who(ATTACKER, xff=CLIENT, fwd=f"for={CLIENT}") == ATTACKER
    assert who(ATTACKER) == ATTACKER


def test_behind_a_trusted_proxy_the_forwarded_client() -> None:
    assert who(xff=CLIENT) == CLIENT
    assert who(xff=f"{CLIENT}, 10.1.1.1, 10.2.2.2") == CLIENT  # several trusted hops
    assert who(xff=f"{ATTACKER}, {CLIENT}") == CLIENT  # what the client wrote itself is left of its own hop
    assert who(xff=f"garbage, unknown, {CLIENT}") == CLIENT
    assert who(fwd=f"by=10.0.0.5, for={CLIENT}") == CLIENT
    assert who(fwd=f'for={CLIENT};proto=https, for="[2001:db8:1::9]:8443";by=10.0.0.5') == CLIENT
    assert who(fwd='For="[2001:db8:2::1]:4711"') == "2001:db8:2::1"
    assert who(xff="10.9.9.9, 10.1.1.1") == "10.9.9.9"  # every hop trusted: the leftmost
    assert who("::ffff:10.0.0.5", xff=CLIENT) == CLIENT  # an IPv4-mapped peer is its IPv4 address
    assert who("192.0.2.7", xff=f"{CLIENT}:51000") == CLIENT


def test_no_header_or_an_unusable_hop_gives_the_peer() -> None:
    assert who() == LB
    assert who(xff="  ") == LB
    for xff in ("unknown", f"{CLIENT}, _hidden", f"{CLIENT},", "not an address", f"{CLIENT}, 10.0.0.1 10.0.0.2"):
        assert who(xff=xff) == LB, xff
    for fwd in ("for=unknown", "for=_hidden", f"for={CLIENT}:80", 'for="[2001:db8::1"', f'for="{CLIENT}',
                f"for={CLIENT};for={ATTACKER}", f"for = {CLIENT}", f"for={CLIENT}, by=10.0.0.5"):
        assert who(fwd=fwd) == LB, fwd


def test_a_forwarded_header_that_names_no_hop_is_no_claim() -> None:
    assert who(xff=CLIENT, fwd="proto=https") == CLIENT
    assert who(fwd=f"for={CLIENT}, ") == CLIENT  # an empty list element is ignored (RFC 9110 §5.6.1)


def test_two_headers_must_name_the_same_client() -> None:
    assert who(xff=CLIENT, fwd=f'for="{CLIENT}:1234"') == CLIENT
    # The proxy appends X-Forwarded-For; the client's own Forwarded header passed through untouched.
    assert who(xff=CLIENT, fwd=f"for={ATTACKER}") == LB
    assert who(xff=ATTACKER, fwd=f"for={CLIENT}") == LB


def test_a_peer_that_is_not_an_address_has_no_address() -> None:
    assert who("", xff=CLIENT) is None
    assert who(None) is None
    assert who("unix:/run/passgate.sock") is None


# --- the scheme -----------------------------------------------------------------------------------------------------

def scheme(peer: str = LB, xfp: str | None = None, fwd: str | None = None) -> str | None:
    return forwarded_scheme(peer, trusted=TRUSTED, x_forwarded_proto=xfp, forwarded=fwd)


def test_the_scheme_only_from_a_trusted_proxy() -> None:
    assert scheme(xfp="https") == "https"
    assert scheme(xfp="HTTPS ") == "https"
    assert scheme(fwd=f"for={CLIENT};proto=https") == "https"
    assert scheme(xfp="https", fwd=f"for={CLIENT};proto=https") == "https"
    assert scheme(xfp="https, http") == "http"  # the nearest proxy says how the request reached it
    assert scheme(ATTACKER, xfp="https") is None


@pytest.mark.parametrize(("xfp", "fwd"), [
    (None, None), ("", None), ("ftp", None), ("https", f"for={CLIENT};proto=http"), (None, "proto=https;proto=http"),
    (None, 'proto="https'), (None, f"for={CLIENT}"),
])
def test_no_usable_scheme_keeps_the_connections_own(xfp: str | None, fwd: str | None) -> None:
    assert scheme(xfp=xfp, fwd=fwd) is None


# --- properties -----------------------------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=200)  # any code point, surrogates and NUL too
trusted_hop = st.sampled_from(["10.0.0.1", "10.200.3.4", "2001:db8:1::1", "192.0.2.7", "::ffff:10.1.2.3"])
untrusted_hop = st.sampled_from([CLIENT, ATTACKER, "2001:db8:9::1", "8.8.8.8", "::1", "127.0.0.1"])
junk_hop = st.one_of(st.sampled_from(["unknown", "_hidden", "", " ", "[::1", '"', "for=", ";", "a=b"]), ANY_TEXT)
hop = st.one_of(trusted_hop, untrusted_hop, junk_hop)
peer = st.one_of(trusted_hop, untrusted_hop, ANY_TEXT, st.none())


def _render_xff(hops: list[str]) -> str:
    return ", ".join(hops)


@st.composite
def forwarded_headers(draw: st.DrawFn, hops: list[str]) -> str:
    elements = []
    for h in hops:
        value = f'"[{h}]"' if ":" in h and address(h) is not None else (f'"{h}"' if draw(st.booleans()) else h)
        extra = draw(st.sampled_from(["", ";proto=https", ";by=10.0.0.5", ";host=id.example.com"]))
        elements.append(f"for={value}{extra}")
    return ", ".join(elements)


def _allowed(result: str | None, direct: str | None, chains: list[list[str]]) -> bool:
    """The result is the peer, or a hop of a header with nothing but trusted proxies to its right."""
    if result == direct:
        return True
    for chain in chains:
        for i, h in enumerate(chain):
            found = address(h)
            if found is not None and str(found) == result and all(
                    (a := address(right)) is not None and any(a in n for n in TRUSTED if n.version == a.version)
                    for right in chain[i + 1:]):
                return True
    return False


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(peer=peer, xff=st.one_of(st.none(), ANY_TEXT), fwd=st.one_of(st.none(), ANY_TEXT),
       xfp=st.one_of(st.none(), ANY_TEXT))
def test_any_text_never_raises_and_gives_an_address_or_none(peer: str | None, xff: str | None, fwd: str | None,
                                                            xfp: str | None) -> None:
    result = client_address(peer, trusted=TRUSTED, x_forwarded_for=xff, forwarded=fwd)
    assert result is None or str(ip_address(result)) == result
    assert forwarded_scheme(peer, trusted=TRUSTED, x_forwarded_proto=xfp, forwarded=fwd) in (None, "http", "https")


@settings(max_examples=400)
@given(peer=st.one_of(untrusted_hop, ANY_TEXT, st.none()), xff=st.one_of(st.none(), ANY_TEXT),
       fwd=st.one_of(st.none(), ANY_TEXT))
def test_an_untrusted_peer_is_never_overridden(peer: str | None, xff: str | None, fwd: str | None) -> None:
    direct = address(peer)
    assume(direct is None or not any(direct in n for n in TRUSTED if n.version == direct.version))
    assert who(peer, xff=xff, fwd=fwd) == (str(direct) if direct is not None else None)
    assert forwarded_scheme(peer, trusted=TRUSTED, x_forwarded_proto="https", forwarded=fwd) is None


@settings(max_examples=400)
@given(peer=st.one_of(trusted_hop, peer), hops=st.lists(st.one_of(trusted_hop, untrusted_hop, hop), max_size=6),
       data=st.data(), use=st.sampled_from(["xff", "fwd", "both"]))
def test_the_result_is_never_from_an_untrusted_part_of_a_chain(peer: str | None, hops: list[str], data: st.DataObject,
                                                               use: str) -> None:
    xff = _render_xff(hops) if use in ("xff", "both") else None
    fwd = data.draw(forwarded_headers(hops)) if use in ("fwd", "both") else None
    direct = address(peer)
    result = who(peer, xff=xff, fwd=fwd)
    assert _allowed(result, str(direct) if direct is not None else None, [hops])


@settings(max_examples=400)
@given(prefix=ANY_TEXT, hops=st.lists(st.one_of(trusted_hop, untrusted_hop), min_size=1, max_size=5),
       fwd=st.one_of(st.none(), ANY_TEXT))
def test_what_the_client_writes_left_of_its_hop_changes_nothing(prefix: str, hops: list[str], fwd: str | None) -> None:
    """The proxy appends the client's address to whatever X-Forwarded-For the client sent: the client's text can
    neither choose the answer nor, with any Forwarded header of its own, make it anything but itself or the peer."""
    assume(any(h in (CLIENT, ATTACKER, "2001:db8:9::1", "8.8.8.8", "::1", "127.0.0.1") for h in hops))
    honest = who(xff=_render_xff(hops))
    assert who(xff=f"{prefix},{_render_xff(hops)}") == honest
    assert who(xff=f"{prefix},{_render_xff(hops)}", fwd=fwd) in (honest, LB)
