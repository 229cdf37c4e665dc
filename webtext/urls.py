"""URL normalisation: the form a link is deduplicated on and a document's id is hashed from.

Lives in the common package because the document id contract depends on it: crawl uses it to
dedupe links, and clean uses it for pages that arrive without crawl's provenance.
"""

from __future__ import annotations

import html
import re
from typing import Optional
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only track the click, never select content.
TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga", "_gl",
    "ref_src", "ref_url", "spm", "share", "cmpid", "icid", "ncid", "sr_share", "wt.mc_id", "__twitter_impression",
    "hmb_campaign", "hmb_medium", "hmb_source", "s_kwcid", "oly_anon_id", "oly_enc_id", "vero_id", "_hsenc", "_hsmi",
    "mkt_tok", "rb_clickid", "soc_src", "soc_trk", "utm",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "piwik_", "matomo_", "hsa_", "at_")

# Characters that need no percent-encoding in a path or query (RFC 3986 unreserved + sub-delims + : @ /).
_SAFE_PATH = "/:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


def is_tracking_param(name: str) -> bool:
    n = name.lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


# A complete HTML character reference: named (with its ";"), decimal or hex. html.unescape alone
# would also decode legacy names without ";" inside query strings ("&sect" in "&section=").
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def unescape_html(url: str) -> str:
    """`&amp;` and other complete HTML escapes undone, repeatedly (`&amp;amp;` too), so that normalising
    a normalised URL changes nothing; nothing else. Each round shortens the URL, so this ends."""
    while True:
        undone = _ENTITY.sub(lambda m: html.unescape(m.group(0)), url)
        if undone == url:
            return url
        url = undone


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalize_escapes(part: str, safe: str) -> str:
    """Decode escapes of unreserved characters (%7E -> ~), upper-case the others, encode the rest."""
    def fix(m):
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return quote(re.sub(r"%([0-9A-Fa-f]{2})", fix, part), safe=safe + "%")


def remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: /a/b/../c/./d -> /a/c/d."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif seg == ".":
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def normalize_url(url: str) -> Optional[str]:
    """The canonical form of an http(s) URL, or None if it is not a valid one.

    Lower-cases scheme and host (IDNA-encoded), drops default ports, userinfo and fragments, removes
    tracking parameters (utm_*, fbclid, ...), normalises percent-encoding, and makes an empty path "/".
    HTML escapes such as `&amp;` (common in Reddit's dumps) are undone first. The query otherwise
    stays as written (order, "+", a name without "="): this is also the URL that is fetched.
    """
    if not isinstance(url, str):
        return None
    url = unescape_html(url.strip())
    if not url or any(c in url for c in "\x00\r\n\t"):
        return None
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return None
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError:
        return None
    if not re.fullmatch(r"[a-z0-9\-._\[\]:]+", host) or ".." in host:
        return None
    netloc = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = remove_dot_segments(_normalize_escapes(parts.path or "/", _SAFE_PATH))
    kept = [p for p in parts.query.split("&") if p and not is_tracking_param(unquote_plus(p.split("=", 1)[0]))]
    query = "&".join(_normalize_escapes(p, _SAFE_QUERY) for p in kept)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_host(url: str) -> str:
    """The host of a URL, lower-case, without a leading 'www.' ('' if none)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
