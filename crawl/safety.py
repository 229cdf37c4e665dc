"""Which addresses the crawler may connect to, and the host-resolution override for tests and demos.

Reddit links are untrusted input: a link (or a redirect) to http://169.254.169.254/ or to a name
that resolves to 10.0.0.5 would make the crawler probe the network it runs in. Every request and
every redirect is checked twice: its URL (scheme; an IP-literal host) before it is sent, and the
address its host resolves to when the connection is made (fetch/resolver.py), so a DNS name that
points inside cannot slip through. Refused: anything that is not a global unicast address
(private, loopback, link-local, shared/CGNAT, documentation, reserved, unspecified) and multicast,
IPv4-mapped IPv6 forms included, unless `allow_private_networks` or an `allowed_networks` entry
allows it. The resolution override ({"miniweb.test": "127.0.0.1"}) is checked the same way.
"""

from __future__ import annotations

import ipaddress
from typing import Optional
from urllib.parse import urlsplit

SCHEMES = ("http", "https")


def address_kind(ip: ipaddress._BaseAddress) -> Optional[str]:
    """Why an address is not a public one ('loopback', 'private', ...), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_kind(ip.ipv4_mapped)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-global"
    return None


class AddressPolicy:
    def __init__(self, allow_private: bool = False, allowed_networks=(), resolve: Optional[dict] = None):
        self.allow_private = allow_private
        self.allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
        self.resolve = {h.lower().rstrip("."): ip for h, ip in (resolve or {}).items()}

    @classmethod
    def from_config(cls, fetch_cfg) -> "AddressPolicy":
        return cls(fetch_cfg.allow_private_networks, fetch_cfg.allowed_networks, fetch_cfg.resolve)

    def override(self, host: str) -> Optional[str]:
        """The configured address of `host` (matching it or a parent domain), or None."""
        host = host.lower().rstrip(".")
        while host:
            if host in self.resolve:
                return self.resolve[host]
            _, _, host = host.partition(".")
        return None

    def refusal(self, address: str) -> Optional[str]:
        """Why connecting to `address` is refused ('loopback address 127.0.0.1'), or None if allowed."""
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return f"not an IP address: {address!r}"
        kind = address_kind(ip)
        if kind is None or self.allow_private:
            return None
        plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        if any(plain in net for net in self.allowed if net.version == plain.version):
            return None
        return f"{kind} address {address}"

    def check_url(self, url: str) -> Optional[tuple[str, str]]:
        """(reason, detail) if the URL must not be requested, before any connection: a scheme other than
        http(s), or a host that is an IP literal (or overridden to an address) that is refused."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError as e:
            return "invalid_url", str(e)
        if parts.scheme.lower() not in SCHEMES:
            return "scheme", f"scheme {parts.scheme!r} is not http(s)"
        if not host:
            return "invalid_url", "no host"
        address = self.override(host) or (host if _is_ip(host) else None)
        if address is not None:
            why = self.refusal(address)
            if why:
                return "private_address", why
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        return False
