"""The page as a reader sees it: headless Chromium loads it, every image renders, nothing is fetched.

Skips when no Chromium is installed (CI needs Debian's `chromium` package, or any Chrome/Chromium
named by WEBTEXT_CHROMIUM). The structural checks in test_check.py run without a browser.
"""

import html as html_lib
import json
import os
import shutil
import subprocess

import pytest
from PIL import Image
from report_fixtures import full_report_once


@pytest.fixture(scope="module")
def full_report_dir(tmp_path_factory):
    return full_report_once(tmp_path_factory)


CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

# Probe injected into a copy of the page: it records broken images, sections that render empty, images
# wider than the text column, and every fetch the page's Content-Security-Policy had to block.
PROBE = """<script>
window.__blocked = [];
document.addEventListener('securitypolicyviolation', e => window.__blocked.push(e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const column = document.querySelector('main').getBoundingClientRect().width;
  document.body.setAttribute('data-check', JSON.stringify({
    images: imgs.length,
    broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
    too_wide: imgs.filter(i => i.getBoundingClientRect().width > column).map(i => i.alt),
    empty: [...document.querySelectorAll('section')].filter(s => s.getBoundingClientRect().height < 80).map(s => s.id),
    sections: document.querySelectorAll('section').length,
    blocked: window.__blocked}));
});
</script>
"""


def chromium():
    explicit = os.environ.get("WEBTEXT_CHROMIUM")
    if explicit:
        return explicit
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium found (install Debian's `chromium` package or set WEBTEXT_CHROMIUM); "
                "the browser-free checks in test_check.py still ran")


def run_chromium(binary, profile, *args):
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def probe_copy(page: str, dest) -> str:
    """The page with the probe script added (its CSP still blocks every fetch; it now allows inline script)."""
    text = page.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
    at = text.index('<meta name="viewport"')
    text = text[:at] + PROBE + text[at:]
    dest.write_text(text)
    return dest.as_uri()


def load(binary, tmp_path, page: str) -> dict:
    out = run_chromium(binary, tmp_path / "profile-dom", "--virtual-time-budget=5000", "--dump-dom",
                       probe_copy(page, tmp_path / "probe.html"))
    marker = 'data-check="'
    assert marker in out.stdout, f"the page did not finish loading in Chromium: {out.stderr[-2000:]}"
    raw = out.stdout.split(marker, 1)[1].split('"', 1)[0]
    return json.loads(html_lib.unescape(raw))


def test_page_renders_in_chromium(full_report_dir, tmp_path):
    binary = chromium()
    out_dir, (summary, page, _, _) = full_report_dir
    result = load(binary, tmp_path, page)
    assert result["sections"] == summary["sections"]
    assert result["images"] == summary["figures"] and result["broken"] == []
    assert result["empty"] == [] and result["too_wide"] == []
    assert result["blocked"] == []  # the page never tried to fetch anything

    shot = tmp_path / "screenshot.png"
    run_chromium(binary, tmp_path / "profile-shot", "--window-size=1280,2400", f"--screenshot={shot}",
                 (out_dir / "index.html").as_uri())
    with Image.open(shot) as img:
        assert img.size == (1280, 2400)
        lo, hi = img.convert("L").getextrema()
        assert hi - lo > 100  # text and plots, not a blank page
    print(f"screenshot: {shot}")


def test_chromium_probe_catches_a_broken_page(full_report_dir, tmp_path):
    """The probe is not blind: an external image is blocked and reported broken, an undecodable one too."""
    binary = chromium()
    _, (_, page, _, _) = full_report_dir
    start = page.index("data:image/png;base64,") + len("data:image/png;base64,")
    spoiled = page[:start] + "AAAAAAAA" + page[page.index('"', start):]  # bytes that are no image
    spoiled = spoiled.replace("</main>", '<img src="https://example.com/x.png" alt="external"></main>')
    result = load(binary, tmp_path, spoiled)
    assert "external" in result["broken"] and len(result["broken"]) == 2
    assert result["blocked"] == ["img-src https://example.com/x.png"]
