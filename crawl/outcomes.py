"""What happened to a link that was not stored: one reason per failure, from the exception or response.

Reasons (the `reason` of a failures/ record, counted in _SUCCESS.json):

    dns              the host does not resolve
    private_address  the host (or a redirect's host) is, or resolves to, a refused address
    scheme           a redirect to something other than http(s)
    timeout          connect or whole-download timeout (a server dripping bytes ends here)
    connection       refused, reset or dropped connections
    data_loss        the server closed the connection before the declared length
    tls              TLS handshake or certificate failure
    too_large        the body exceeds fetch.max_bytes, on the wire or after decompression
    robots           robots.txt disallows the URL
    redirect_loop    more than fetch.max_redirects redirects (a loop ends here)
    content_type     not an HTML page
    http_<code>      a final non-2xx status (after retries for 429/5xx)
    retry_after      the server asked to wait longer than fetch.retry_after_max_s
    lost             the crawl finished without an outcome for the link (should never happen)
    error            anything else (the detail says what)

Classification looks at exception class names (and their causes), so it needs no Scrapy import.
"""

from __future__ import annotations

from typing import Optional

MAX_DETAIL = 300


def _names(exc: BaseException) -> set[str]:
    names = set()
    seen = 0
    while exc is not None and seen < 5:
        names.update(c.__name__ for c in type(exc).__mro__)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return names


def _text(exc: BaseException) -> str:
    msg = str(exc) or type(exc).__name__
    return msg if len(msg) <= MAX_DETAIL else msg[: MAX_DETAIL - 3] + "..."


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """(reason, detail) for an exception that ended a download."""
    names = _names(exc)
    text = _text(exc)
    reason = getattr(exc, "webtext_reason", None)
    if reason:  # our own refusals carry their reason
        return reason, text
    if "HttpError" in names:
        return f"http_{exc.response.status}", f"HTTP {exc.response.status}"
    if "IgnoreRequest" in names:
        if "robots.txt" in text:
            return "robots", "disallowed by robots.txt"
        if "max redirections" in text:
            return "redirect_loop", "too many redirects"
        if "DOWNLOAD_MAXSIZE" in text or "max size" in text:
            return "too_large", text
        return "error", text
    if "DownloadCancelledError" in names or "CancelledError" in names:
        # Outside a shutdown (which records no failures) a cancelled download is the size limit.
        return "too_large", text if "max size" in text else "body larger than max_bytes"
    if "BlockedAddressError" in names:
        return "private_address", text
    if "CannotResolveHostError" in names or "DNSLookupError" in names:
        return "dns", text
    if names & {"DownloadTimeoutError", "TimeoutError", "TCPTimedOutError", "UserTimeoutError"}:
        return "timeout", text
    if any("SSL" in n or "TLS" in n for n in names) or "certificate verify" in text.lower():
        return "tls", text
    if "ResponseDataLossError" in names or "_DataLoss" in names:
        return "data_loss", text
    if names & {"DownloadConnectionRefusedError", "ConnectionRefusedError", "ConnectError", "ConnectionLost",
                "ConnectionDone", "DownloadFailedError", "ResponseFailed", "ResponseNeverReceived",
                "ConnectionResetError", "TunnelError", "NoRouteError"}:
        return "connection", text
    if "UnsupportedURLSchemeError" in names or "NotSupported" in names:
        return "scheme", text
    return "error", f"{type(exc).__name__}: {text}"


def is_html(content_type: Optional[str], allowed: tuple, body_start: bytes = b"") -> tuple[bool, str]:
    """Is this an HTML page? (ok, the media type). Without a Content-Type the body is sniffed."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media:
        return media in allowed, media
    head = body_start[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<!--")) or b"<html" in head, "(none)"


def failure_record(link: dict, reason: str, detail: str = "", status: Optional[int] = None) -> dict:
    """The failures/ record of a link that was not stored."""
    return {"id": link["id"], "url": link["url"], "reason": reason, "detail": detail, "status": status,
            "source": link["source"]}
