"""Who the client is behind trusted proxies: its address (``X-Forwarded-For``, RFC 7239 ``Forwarded: for=``) and
the scheme it used (``X-Forwarded-Proto``, ``Forwarded: proto=``).

A forwarding header is only a claim: anyone can send one. It is read only when the direct peer (the TCP
connection's address) is a trusted proxy, and then walked from the right, the end the nearest proxy appended:
each hop that is itself a trusted proxy passes the question one step left, and the first hop that is not is the
client. So a client can write what it likes at the left of the header; the walk stops before it. Anything
unexpected gives the peer's address, never a guess: a hop that is not an address ("unknown", an obfuscated
identifier, garbage), a header that does not parse, or both headers present and naming different clients (one
of them was written by the client and passed through untouched). Every function here is total: any text in,
no exception out.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from passgate.core.errors import InvalidInput

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SCHEMES = ("http", "https")


class _Malformed(Exception):
    """A forwarding header that does not follow its grammar."""


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """Comma-separated networks in CIDR notation or single addresses: ``"10.0.0.0/8, 192.0.2.7, 2001:db8::/32"``.
    A network with host bits set (``10.0.0.1/8``) is refused rather than silently widened."""
    found: list[IPNetwork] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            network = ip_network(item, strict=True)
        except ValueError as exc:
            raise InvalidInput(f"{item!r} is not a network like 10.0.0.0/8 or an address like 192.0.2.7 ({exc})",
                               code="invalid_network") from None
        found.append(_unmapped_network(network))
    return tuple(found)


def _unmapped_network(network: IPNetwork) -> IPNetwork:
    if isinstance(network, IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def _host(text: str) -> str | None:
    """The address part of ``host``, ``host:port`` (IPv4) or ``[host]`` / ``[host]:port`` (IPv6)."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        port_ok = not rest or (rest[0] == ":" and rest[1:].isdigit() and rest[1:].isascii())
        return host if bracket and port_ok else None
    if text.count(":") == 1:  # IPv4 with a port
        host, _, port = text.partition(":")
        return host if port.isdigit() and port.isascii() else None
    return text


def address(text: object) -> IPAddress | None:
    """An address as a peer or a proxy writes it, with an optional port (``192.0.2.7:4711``, ``[2001:db8::1]:443``,
    ``2001:db8::1``); IPv4-mapped IPv6 as IPv4, without an IPv6 zone. None for anything else."""
    host = _host(text) if isinstance(text, str) else None
    if not host or not host.isascii():
        return None
    try:
        found = ip_address(host)
    except ValueError:
        return None
    if isinstance(found, IPv6Address):
        if found.scope_id is not None:
            found = IPv6Address(str(found).split("%", 1)[0])
        if found.ipv4_mapped is not None:
            return found.ipv4_mapped
    return found


def _trusted(addr: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(addr.version == net.version and addr in net for net in trusted)


def _split_quoted(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside quoted strings (RFC 9110 §5.6.4, backslash escapes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted or escaped:
        raise _Malformed
    parts.append("".join(current))
    return parts


def _value(raw: str) -> str:
    """A parameter value: a token, or a quoted string (unquoted)."""
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise _Malformed
        out: list[str] = []
        escaped = False
        inner = raw[1:-1]
        for char in inner:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                raise _Malformed
            else:
                out.append(char)
        return "".join(out)
    if not raw or any(c not in _TOKEN_CHARS for c in raw):
        raise _Malformed
    return raw


def _forwarded_elements(header: str) -> list[dict[str, str]]:
    """RFC 7239 §4: ``Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`` as one dict per hop."""
    elements = []
    for element in _split_quoted(header, ","):
        if not element.strip(" \t"):  # an empty list element (RFC 9110 §5.6.1): ignored
            continue
        pairs: dict[str, str] = {}
        for raw_pair in _split_quoted(element, ";"):
            pair = raw_pair.strip(" \t")
            if not pair:
                continue
            name, equals, raw = pair.partition("=")
            name = name.lower()
            if not equals or not name or any(c not in _TOKEN_CHARS for c in name) or name in pairs:
                raise _Malformed
            pairs[name] = _value(raw)
        elements.append(pairs)
    return elements


def _walk(hops: Sequence[str | None], trusted: Sequence[IPNetwork]) -> IPAddress:
    """The client: from the right, the first hop that is not a trusted proxy (the leftmost if they all are)."""
    found: IPAddress | None = None
    for hop in reversed(hops):
        found = address(hop)
        if found is None:
            raise _Malformed
        if not _trusted(found, trusted):
            return found
    if found is None:
        raise _Malformed
    return found


def _header(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip(" \t") else None


def client_address(peer: object, *, trusted: Sequence[IPNetwork], x_forwarded_for: object = None,
                   forwarded: object = None) -> str | None:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the one its forwarding headers name
    (see the module). None when the peer is not an IP address (a Unix socket)."""
    direct = address(peer)
    if direct is None:
        return None
    if not _trusted(direct, trusted):
        return str(direct)
    xff, fwd = _header(x_forwarded_for), _header(forwarded)
    named: set[IPAddress] = set()
    try:
        if xff is not None:
            named.add(_walk([hop.strip(" \t") for hop in xff.split(",")], trusted))
        hops = [element.get("for") for element in _forwarded_elements(fwd)] if fwd is not None else []
        if any(hop is not None for hop in hops):  # a Forwarded header that names no hop says nothing here
            named.add(_walk(hops, trusted))
    except _Malformed:
        return str(direct)
    return str(named.pop()) if len(named) == 1 else str(direct)


def forwarded_scheme(peer: object, *, trusted: Sequence[IPNetwork], x_forwarded_proto: object = None,
                     forwarded: object = None) -> str | None:
    """``"https"`` or ``"http"``: how the request reached the nearest proxy, when the peer is a trusted proxy and
    says so (the rightmost ``X-Forwarded-Proto`` value, the rightmost ``Forwarded`` element's ``proto``); None to
    keep the connection's own scheme (an untrusted peer, no such header, a malformed one, or two that disagree)."""
    direct = address(peer)
    if direct is None or not _trusted(direct, trusted):
        return None
    xfp, fwd = _header(x_forwarded_proto), _header(forwarded)
    said: set[str] = set()
    try:
        if xfp is not None:
            said.add(xfp.rsplit(",", 1)[-1].strip(" \t").lower())
        elements = _forwarded_elements(fwd) if fwd is not None else []
        if elements and "proto" in elements[-1]:
            said.add(elements[-1]["proto"].lower())
    except _Malformed:
        return None
    if len(said) != 1:
        return None
    scheme = said.pop()
    return scheme if scheme in _SCHEMES else None
