"""Decoding: header charset, then <meta>, then detection; wrong declarations give no mojibake."""

import codecs

from clean.decode import charset_from_content_type, charset_from_meta, decode_html, normalize_charset

FRENCH = ("<html><head><title>Été</title></head><body><p>Le garçon a mangé une crème brûlée à côté de "
          "l'église, puis il est allé au marché où il a acheté des pêches, des abricots et un pâté.</p>"
          "<p>Ça coûte très cher, a-t-il dit, mais c'était délicieux et la fête était réussie.</p></body></html>")
RUSSIAN = ("<html><body><p>Мороз и солнце; день чудесный! Ещё ты дремлешь, друг прелестный, пора, красавица, "
           "проснись: открой сомкнуты негой взоры навстречу северной Авроры, звездою севера явись!</p></body></html>")


def test_charset_labels_map_to_what_browsers_use():
    assert normalize_charset("ISO-8859-1") == "cp1252"
    assert normalize_charset('"utf8"') == "utf-8"
    assert normalize_charset("gb2312") == "gb18030"
    assert normalize_charset("Shift_JIS") == "cp932"
    assert normalize_charset("no-such-charset") is None
    assert charset_from_content_type("text/html; charset=Windows-1251") == "cp1251"
    assert charset_from_content_type("text/html") is None
    assert charset_from_meta(b'<head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r">') == "koi8-r"
    assert charset_from_meta(b"<meta charset='utf-8'>") == "utf-8"


def test_header_charset_comes_first():
    body = RUSSIAN.encode("cp1251")
    d = decode_html(body, "text/html; charset=windows-1251")
    assert d.source == "header" and d.encoding == "cp1251" and "солнце" in d.text


def test_meta_charset_when_the_header_has_none():
    body = ('<html><head><meta charset="koi8-r"></head>' + RUSSIAN[6:]).encode("koi8-r")
    d = decode_html(body, "text/html")
    assert d.source == "meta" and "Мороз" in d.text


def test_detection_when_nothing_is_declared():
    d = decode_html(RUSSIAN.encode("cp1251"), "text/html")
    assert d.source == "detected" and "красавица" in d.text
    d = decode_html(FRENCH.encode("cp1252"), None)
    assert d.source == "detected" and "brûlée" in d.text and "Ã" not in d.text


def test_latin1_declared_but_utf8_bytes_is_read_as_utf8():
    # The classic mojibake: a UTF-8 page whose server says ISO-8859-1 would come out as "garÃ§on".
    d = decode_html(FRENCH.encode("utf-8"), "text/html; charset=ISO-8859-1")
    assert d.encoding == "utf-8" and "garçon" in d.text and "Ã" not in d.text


def test_utf8_bytes_under_any_legacy_declaration_are_read_as_utf8():
    # The same mistake with non-Latin charsets: a UTF-8 page declared windows-1251, ISO-8859-2, KOI8-R
    # or Shift_JIS would come out as "РњРѕСЂРѕР·", "garĂ§on", ... under its declaration.
    for declared in ("windows-1251", "ISO-8859-2", "KOI8-R", "ISO-8859-5", "Shift_JIS"):
        for page, word in ((RUSSIAN, "красавица"), (FRENCH, "garçon")):
            d = decode_html(page.encode("utf-8"), f"text/html; charset={declared}")
            assert d.encoding == "utf-8" and word in d.text, (declared, d.encoding, d.text[:80])
    # ... while a page really in that charset keeps its declaration.
    d = decode_html(RUSSIAN.encode("koi8-r"), "text/html; charset=KOI8-R")
    assert d.source == "header" and d.encoding == "koi8-r" and "красавица" in d.text
    japanese = "<html><body><p>吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。</p></body></html>"
    d = decode_html(japanese.encode("cp932"), "text/html; charset=Shift_JIS")
    assert d.source == "header" and "吾輩は猫である" in d.text


def test_utf8_declared_but_cp1252_bytes_falls_through_to_meta_or_detection():
    body = FRENCH.replace("<head>", '<head><meta charset="windows-1252">').encode("cp1252")
    d = decode_html(body, "text/html; charset=utf-8")
    assert d.source == "meta" and "crème" in d.text
    d = decode_html(FRENCH.encode("cp1252"), "text/html; charset=utf-8")
    assert d.source == "detected" and "crème" in d.text


def test_utf8_declared_cp1252_bytes_with_only_a_few_accents_is_not_utf8():
    # Two accented letters in a long English page: too few bad bytes to be "many", but not one
    # well-formed UTF-8 character either. Decoded as UTF-8 they would become U+FFFD.
    body = ("<html><head><meta charset=utf-8></head><body><p>" + "A quiet letter about the harbour. " * 200
            + "Signed, Se\u00f1ora P\u00e9rez.</p></body></html>").encode("cp1252")
    d = decode_html(body, "text/html; charset=utf-8")
    assert "Se\u00f1ora P\u00e9rez" in d.text and d.errors == 0 and d.source == "detected"


def test_a_stray_invalid_byte_keeps_the_declared_charset():
    body = FRENCH.encode("utf-8").replace(b"puis", b"pu\xffis")
    d = decode_html(body, "text/html; charset=utf-8")
    assert d.encoding == "utf-8" and d.errors == 1 and "garçon" in d.text and "\ufffd" in d.text


def test_bom_and_utf16():
    d = decode_html(codecs.BOM_UTF8 + FRENCH.encode("utf-8"), "text/html; charset=iso-8859-1")
    assert d.source == "bom" and "garçon" in d.text
    d = decode_html(FRENCH.encode("utf-16"), None)
    assert d.source == "bom" and "garçon" in d.text


def test_undecodable_bytes_never_raise():
    d = decode_html(bytes(range(256)) * 20, "text/html; charset=utf-8")
    assert isinstance(d.text, str) and d.text
    d = decode_html(b"", None)
    assert d.text == ""


def test_clean_extract_reads_the_http_charset_like_the_stage():
    from clean import extract

    # The header says windows-1251 (right); the page's own <meta> says KOI8-R (wrong). The header wins.
    page = ('<html><head><meta charset="koi8-r"><title>x</title></head><body><article><p>' +
            RUSSIAN[15:-22] * 3 + "</p></article></body></html>").encode("cp1251")
    text = extract(page, "http://ru.example/a", content_type="text/html; charset=windows-1251")
    assert text and "красавица" in text
    assert "красавица" not in (extract(page, "http://ru.example/a") or "")  # the lying <meta> alone


def test_a_few_multibyte_characters_that_happen_to_be_utf8_keep_their_declared_charset():
    # Half-width katakana "ﾃｽ" in Shift_JIS is C3 BD: valid UTF-8 ("ý") by chance. The bytes decode
    # under the declaration, which is multi-byte, so the declaration stands.
    body = "<html><body><p>ﾃｽ</p></body></html>".encode("cp932")
    assert body.decode("utf-8") == "<html><body><p>ý</p></body></html>"  # valid UTF-8 by chance
    d = decode_html(body, "text/html; charset=Shift_JIS")
    assert d.encoding == "cp932" and "ﾃｽ" in d.text


def test_a_utf16_meta_on_an_8bit_page_is_read_as_utf8():
    body = '<html><head><meta charset="utf-16"></head><body>café plain</body></html>'.encode("utf-8")
    d = decode_html(body)
    assert d.encoding == "utf-8" and "café plain" in d.text
