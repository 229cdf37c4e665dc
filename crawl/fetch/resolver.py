"""A DNS resolver that applies the host-resolution override and refuses non-public addresses.

Installed as TWISTED_DNS_RESOLVER, so it sees every connection Scrapy makes (pages, redirects,
robots.txt): the address checked is the address connected to. IP-literal hosts never reach a
resolver (Twisted connects to them directly); SafetyMiddleware checks those before the request.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from scrapy.resolver import CachingThreadedResolver

from crawl.safety import AddressPolicy

# host -> why it was refused; read by the spider to name the failure (Scrapy rewraps DNS errors).
BLOCKED: dict[str, str] = {}


class BlockedAddressError(DNSLookupError):
    webtext_reason = "private_address"


class SafeResolver(CachingThreadedResolver):
    policy: AddressPolicy = AddressPolicy()

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = AddressPolicy(**crawler.settings.getdict("WEBTEXT_ADDRESS_POLICY"))
        return resolver

    def getHostByName(self, name: str, timeout=()):
        override = self.policy.override(name)
        d = defer.succeed(override) if override else super().getHostByName(name, timeout)
        d.addCallback(self._check, name)
        return d

    def _check(self, address: str, name: str) -> str:
        why = self.policy.refusal(address)
        if why:
            BLOCKED[name.lower()] = why
            raise BlockedAddressError(f"{name} resolves to a refused {why}")
        return address
