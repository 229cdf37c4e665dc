"""HTML for each kind of site in the mini-web: a newspaper, a blog platform, a forum, a magazine, a wire
service, a Wikipedia mirror, a shop, a foreign-language news site and an old hand-made site.

Each template wraps the main text in the chrome real sites have (navigation, cookie banners, ads, share
buttons, related links, comments, footers), with the class names such sites use, so that an extractor
faces the same job it faces on the web. Functions return `str`; the generator encodes them.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime
from html import escape as esc
from typing import Callable, Optional

from .writing import (AD_ALT, BLOG_TAGS, CAPTIONS, COMMENT_REPLIES, COMMENTS, COOKIE_BANNER, LEGAL, NEWSLETTER,
                     PRODUCT_REVIEWS, SECTIONS, SPONSORED, TICKER)

Url = Callable[[str, str], str]  # (host, path) -> absolute URL


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def human_date(t: datetime) -> str:
    return f"{t.day} {t.strftime('%B %Y')}"


def paragraphs_html(paras: list[str], indent: str = "      ") -> str:
    return "\n".join(f"{indent}<p>{esc(p)}</p>" for p in paras)


def cookie_banner(lang: str = "en", cls: str = "cookie-banner") -> str:
    text, accept, manage = COOKIE_BANNER[lang]
    return (f'<div id="cookie-consent" class="{cls}" role="dialog" aria-live="polite">\n'
            f'  <p>{esc(text)} <a href="/privacy/">{"Privacy" if lang == "en" else "Info"}</a></p>\n'
            f'  <button class="accept">{esc(accept)}</button> <button class="manage">{esc(manage)}</button>\n'
            f'</div>')


def ad_slot(rng: random.Random, size: str = "leaderboard") -> str:
    n = rng.randrange(1, 40)
    dims = {"leaderboard": (728, 90), "box": (300, 250), "inline": (468, 60), "skyscraper": (160, 600)}[size]
    return (f'<div class="ad ad-{size}" data-ad-slot="{size}-{n}">'
            f'<span class="ad-label">{rng.choice(AD_ALT)}</span>'
            f'<a href="http://ads.miniweb.test/click?slot={size}&amp;c={n}" rel="sponsored nofollow">'
            f'<img src="http://ads.miniweb.test/creative/{n}.gif" width="{dims[0]}" height="{dims[1]}" alt=""></a>'
            f'</div>')


def sponsored_links(rng: random.Random, k: int = 4) -> str:
    items = "\n".join(f'    <li><a href="http://ads.miniweb.test/native?i={i}" rel="sponsored">{esc(t)}</a></li>'
                      for i, t in enumerate(rng.sample(SPONSORED, k)))
    return f'<div class="sponsored-content">\n  <h3>Sponsored stories</h3>\n  <ul>\n{items}\n  </ul>\n</div>'


def share_buttons(url: str, title: str, extra: str = "") -> str:
    from urllib.parse import quote

    u, t = quote(url, safe=""), quote(title, safe="")
    return ('<ul class="share-buttons social-share">\n'
            f'  <li><a class="share-twitter" href="https://twitter.com/intent/tweet?url={u}&amp;text={t}">Tweet</a></li>\n'
            f'  <li><a class="share-facebook" href="https://www.facebook.com/sharer/sharer.php?u={u}">Share</a></li>\n'
            f'  <li><a class="share-reddit" href="https://www.reddit.com/submit?url={u}">Reddit</a></li>\n'
            f'  <li><a class="share-email" href="mailto:?subject={t}&amp;body={u}">Email</a></li>\n'
            f'{extra}</ul>')


def comment_section(rng: random.Random, users: list[str], when: datetime, n: int, closed: bool = False) -> str:
    if closed:
        return ('<section id="comments" class="comments">\n  <h2>Comments</h2>\n'
                '  <p class="comments-closed">Comments are closed for this article.</p>\n</section>')
    items = []
    for i in range(n):
        user = rng.choice(users)
        text = rng.choice(COMMENTS)
        reply = ""
        if rng.random() < 0.3:
            reply = (f'\n      <ol class="children"><li class="comment reply"><span class="comment-author">'
                     f'{esc(rng.choice(users))}</span> <p>{esc(rng.choice(COMMENT_REPLIES))}</p></li></ol>')
        items.append(f'    <li class="comment" id="comment-{i + 1}"><div class="comment-meta"><span class="comment-author">'
                     f'{esc(user)}</span> <time>{rng.randrange(1, 23)} hours ago</time></div>\n'
                     f'      <p>{esc(text)}</p> <a class="comment-reply-link" href="#respond">Reply</a>'
                     f' <span class="votes">{rng.randrange(0, 90)} points</span>{reply}</li>')
    body = "\n".join(items)
    return (f'<section id="comments" class="comments">\n  <h2>{n} Comments</h2>\n'
            f'  <ol class="comment-list">\n{body}\n  </ol>\n'
            '  <form id="respond" class="comment-form"><textarea name="comment" placeholder="Join the discussion"></textarea>'
            '<button>Post comment</button></form>\n</section>')


def analytics() -> str:
    return ("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
            "gtag('js',new Date());gtag('config','UA-0000000-1');</script>")


# -- The Miniweb Herald (news.) ------------------------------------------------------------------

def herald_header(rng: random.Random, when: datetime, active: str) -> str:
    active_attr = ' class="active"'
    nav = "\n".join(f'      <li{active_attr if key == active else ""}><a href="/{key}/">{name}</a></li>'
                    for key, name in SECTIONS.items())
    return f'''<header class="site-header">
  <div class="top-bar"><span class="date">{when.strftime("%A")}, {human_date(when)}</span>
    <a href="/subscribe/" class="subscribe">Subscribe</a> <a href="/login/">Sign in</a></div>
  <a class="logo" href="/">The Miniweb Herald</a>
  <form class="search" action="/search" role="search"><input name="q" placeholder="Search the Herald"><button>Search</button></form>
  <nav class="main-nav" aria-label="Sections">
    <ul>
      <li><a href="/">Home</a></li>
{nav}
    </ul>
  </nav>
  <div class="ticker"><strong>Breaking:</strong> {esc(rng.choice(TICKER))}</div>
</header>'''


def herald_footer() -> str:
    return '''<footer class="site-footer">
  <nav class="footer-links"><a href="/about/">About us</a> | <a href="/contact/">Contact</a> | <a href="/privacy/">Privacy</a> | <a href="/terms/">Terms of use</a> | <a href="/advertise/">Advertise with us</a></nav>
  <p class="social">Follow us: <a href="https://twitter.com/">Twitter</a> <a href="https://www.facebook.com/">Facebook</a> <a href="/rss/">RSS</a></p>
  <p class="copyright">&copy; 2005&ndash;2017 The Miniweb Herald. All rights reserved.</p>
</footer>'''


def news_article(item, url: Url, rng: random.Random, *, body: list[str], title: str, related: list,
                 users: list[str], comments: int, closed: bool, note: Optional[str] = None,
                 print_path: Optional[str] = None) -> str:
    canonical = url(item.host, item.path)
    section_name = SECTIONS[item.section]
    inline_at = min(3, len(body) - 1)
    body_html = paragraphs_html(body[:inline_at]) + "\n      " + ad_slot(rng, "inline") + "\n" + paragraphs_html(body[inline_at:])
    if note:
        body_html += f'\n      <p class="update-note"><em>{esc(note)}</em></p>'
    rel = "\n".join(f'    <li><a href="{esc(r.path)}">{esc(r.title)}</a></li>' for r in related)
    most = "\n".join(f'      <li><a href="{esc(r.path)}">{esc(r.title)}</a></li>' for r in related[::-1])
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": iso(item.when), "author": {"@type": "Person", "name": item.author},
                     "publisher": {"@type": "Organization", "name": "The Miniweb Herald"}}, sort_keys=True)
    news_title, news_text = rng.choice(NEWSLETTER)
    print_link = f'  <li><a class="print" href="{print_path}" rel="nofollow">Print</a></li>\n' if print_path else ""
    return f'''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(title)} | {section_name} | The Miniweb Herald</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{esc(item.dek)}">
<meta name="author" content="{esc(item.author)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(title)}">
<meta property="og:site_name" content="The Miniweb Herald">
<meta property="og:url" content="{esc(canonical)}">
<meta property="article:published_time" content="{iso(item.when)}">
<meta property="article:section" content="{section_name}">
<link rel="canonical" href="{esc(canonical)}">
<link rel="stylesheet" href="/static/herald.css">
<script type="application/ld+json">{ld}</script>
{analytics()}
</head>
<body class="article-page section-{item.section}">
{cookie_banner()}
{herald_header(rng, item.when, item.section)}
{ad_slot(rng, "leaderboard")}
<main id="content" class="layout">
  <article class="story" itemscope itemtype="https://schema.org/NewsArticle">
    <nav class="breadcrumbs"><a href="/">Home</a> &rsaquo; <a href="/{item.section}/">{section_name}</a></nav>
    <h1 class="headline" itemprop="headline">{esc(title)}</h1>
    <p class="standfirst">{esc(item.dek)}</p>
    <div class="byline">By <a rel="author" href="/authors/{item.author_slug}/">{esc(item.author)}</a>
      &middot; <time datetime="{iso(item.when)}" itemprop="datePublished">{human_date(item.when)}</time></div>
    {share_buttons(canonical, title, print_link)}
    <figure class="lead-image"><img src="/static/img/{item.key}.jpg" alt="" width="960" height="540">
      <figcaption>{esc(rng.choice(CAPTIONS))} Photograph: Herald staff</figcaption></figure>
    <div class="story-body" itemprop="articleBody">
{body_html}
    </div>
    <div class="tags">Topics: <a href="/{item.section}/">{section_name}</a>, <a href="/topics/{item.names[0].lower()}/">{esc(item.names[0])}</a></div>
    <div class="newsletter-signup"><h3>{news_title}</h3><p>{news_text}</p>
      <form action="/newsletter"><input type="email" name="email" placeholder="Your email"><button>Sign up</button></form></div>
  </article>
  <aside class="related-stories"><h2>More from {section_name}</h2>
  <ul>
{rel}
  </ul></aside>
  {comment_section(rng, users, item.when, comments, closed)}
</main>
<aside class="sidebar">
  <div class="most-read"><h3>Most read</h3>
    <ol>
{most}
    </ol></div>
  {ad_slot(rng, "box")}
  {sponsored_links(rng)}
</aside>
{herald_footer()}
<script src="/static/app.js" async></script>
</body>
</html>
'''


def news_print(item, url: Url, *, body: list[str], title: str) -> str:
    return f'''<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{esc(title)} (print version) | The Miniweb Herald</title>
<meta name="robots" content="noindex">
<link rel="canonical" href="{esc(url(item.host, item.path))}">
<style>body{{font-family:Georgia,serif;max-width:40em;margin:auto}} .noprint{{display:none}}</style></head>
<body onload="window.print()">
<p class="masthead">The Miniweb Herald</p>
<h1>{esc(title)}</h1>
<p class="byline">By {esc(item.author)}, {human_date(item.when)}</p>
<div class="article-text">
{paragraphs_html(body, "")}
</div>
<hr>
<p class="print-footer">Printed from {esc(url(item.host, item.path))}. &copy; The Miniweb Herald.</p>
</body>
</html>
'''


def news_index(title: str, section: Optional[str], items: list, rng: random.Random, when: datetime) -> str:
    cards = "\n".join(
        f'    <li class="card"><a href="{esc(i.path)}"><h3>{esc(i.title)}</h3></a><p class="teaser">{esc(i.dek)}</p>'
        f'<span class="meta">{esc(i.author)} &middot; {human_date(i.when)}</span></li>' for i in items)
    return f'''<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{esc(title)} | The Miniweb Herald</title>
<link rel="stylesheet" href="/static/herald.css">{analytics()}</head>
<body class="index-page">
{cookie_banner()}
{herald_header(rng, when, section or "")}
{ad_slot(rng, "leaderboard")}
<main id="content">
  <h1 class="section-title">{esc(title)}</h1>
  <ul class="story-list">
{cards}
  </ul>
  <nav class="pagination"><a href="?page=2" rel="next">Older stories &raquo;</a></nav>
</main>
<aside class="sidebar">{ad_slot(rng, "skyscraper")}{sponsored_links(rng)}</aside>
{herald_footer()}
</body>
</html>
'''


# -- Notebook blogs (blog.) ----------------------------------------------------------------------

def blog_post(item, url: Url, rng: random.Random, *, blog: tuple, archive: list, recent: list, users: list[str],
              comments: int) -> str:
    slug, author, blog_title, bio = blog
    canonical = url(item.host, item.path)
    tags = rng.sample(BLOG_TAGS, 3)
    months = "\n".join(f'        <li><a href="/{slug}/{y:04d}/{m:02d}/">{datetime(y, m, 1).strftime("%B %Y")}</a></li>'
                       for y, m in archive)
    recent_html = "\n".join(f'        <li><a href="{esc(r.path)}">{esc(r.title)}</a></li>' for r in recent)
    tag_cloud = " ".join(f'<a href="/tag/{t.replace(" ", "-")}/" class="tag-size-{rng.randrange(1, 6)}">{t}</a>'
                         for t in BLOG_TAGS)
    return f'''<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="UTF-8">
<title>{esc(item.title)} &#8211; {esc(blog_title)}</title>
<meta name="generator" content="Notebook 3.2">
<link rel="canonical" href="{esc(canonical)}">
<link rel="alternate" type="application/rss+xml" title="{esc(blog_title)} &raquo; Feed" href="/{slug}/feed/">
<link rel="stylesheet" id="theme-css" href="/themes/quiet/style.css" type="text/css" media="all">
{analytics()}
</head>
<body class="post-template-default single single-post postid-{item.n} single-format-standard">
<div id="page" class="site">
  <a class="skip-link screen-reader-text" href="#content">Skip to content</a>
  <header id="masthead" class="site-header">
    <p class="site-title"><a href="/{slug}/" rel="home">{esc(blog_title)}</a></p>
    <p class="site-description">{esc(bio)}</p>
    <nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
      <li><a href="/{slug}/">Home</a></li><li><a href="/{slug}/about/">About</a></li><li><a href="/{slug}/archive/">Archive</a></li><li><a href="/">All Notebook blogs</a></li>
    </ul></nav>
  </header>
  <div id="content" class="site-content">
    <div id="primary" class="content-area"><main id="main" class="site-main">
      <article id="post-{item.n}" class="post-{item.n} post type-post status-publish hentry">
        <header class="entry-header">
          <h1 class="entry-title">{esc(item.title)}</h1>
          <div class="entry-meta"><span class="posted-on">Posted on <time class="entry-date published" datetime="{iso(item.when)}">{human_date(item.when)}</time></span>
            <span class="byline"> by <span class="author vcard"><a class="url fn n" href="/{slug}/">{esc(author)}</a></span></span></div>
        </header>
        <div class="entry-content">
{paragraphs_html(item.body, "          ")}
        </div>
        <footer class="entry-footer"><span class="cat-links">Posted in <a href="/{slug}/category/notes/" rel="category tag">Notes</a></span>
          <span class="tags-links">Tagged {", ".join(f'<a href="/tag/{t.replace(" ", "-")}/" rel="tag">{t}</a>' for t in tags)}</span></footer>
      </article>
      <div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>{share_buttons(canonical, item.title)}</div>
      <div class="jp-relatedposts"><h3>Related</h3><ul>{"".join(f'<li><a href="{esc(r.path)}">{esc(r.title)}</a></li>' for r in recent[:3])}</ul></div>
      {comment_section(rng, users, item.when, comments)}
    </main></div>
    <aside id="secondary" class="widget-area">
      <section class="widget widget_text"><h2 class="widget-title">About me</h2><p>{esc(bio)}</p></section>
      <section class="widget widget_recent_entries"><h2 class="widget-title">Recent posts</h2><ul>
{recent_html}
      </ul></section>
      <section class="widget widget_archive"><h2 class="widget-title">Archives</h2><ul>
{months}
      </ul></section>
      <section class="widget widget_tag_cloud"><h2 class="widget-title">Tags</h2><div class="tagcloud">{tag_cloud}</div></section>
      <section class="widget widget_links"><h2 class="widget-title">Blogroll</h2><ul>
        <li><a href="http://magazine.miniweb.test/">The Miniweb Quarterly</a></li><li><a href="http://forum.miniweb.test/">Miniweb Forums</a></li></ul></section>
    </aside>
  </div>
  <footer id="colophon" class="site-footer"><div class="site-info">Proudly powered by Notebook &middot; Theme: Quiet</div></footer>
</div>
</body>
</html>
'''


def blog_home(title: str, posts: list, description: str) -> str:
    items = "\n".join(f'  <article class="post excerpt"><h2 class="entry-title"><a href="{esc(p.path)}">{esc(p.title)}</a></h2>'
                      f'<p class="entry-meta">{human_date(p.when)} &middot; {esc(p.author)}</p>'
                      f'<p>{esc(" ".join(p.body[0].split()[:30]))}&hellip; <a class="more-link" href="{esc(p.path)}">Continue reading</a></p></article>'
                      for p in posts)
    return f'''<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="UTF-8"><title>{esc(title)}</title><meta name="generator" content="Notebook 3.2"></head>
<body class="home blog"><div id="page" class="site"><header class="site-header"><p class="site-title">{esc(title)}</p>
<p class="site-description">{esc(description)}</p></header>
<main id="main" class="site-main">
{items}
<nav class="navigation posts-navigation"><a href="?page=2">Older posts</a></nav>
</main><footer class="site-footer">Proudly powered by Notebook</footer></div></body></html>
'''


# -- Miniweb Forums (forum.) ---------------------------------------------------------------------

def forum_thread(item, url: Url, rng: random.Random, *, posts: list[tuple[str, str, Optional[str]]],
                 board: tuple, members: dict) -> str:
    """posts: (user, text, quoted sentence or None)."""
    key, board_name, _ = board
    blocks = []
    for i, (user, text, quote) in enumerate(posts):
        joined, count, sig = members[user]
        q = ""
        if quote:
            q = f'<blockquote><cite>{esc(quote[0])} wrote:</cite> {esc(quote[1])}</blockquote>\n          '
        when = item.when.replace(minute=(item.when.minute + 7 * i) % 60)
        blocks.append(f'''      <div id="p{item.n * 100 + i}" class="post {"bg1" if i % 2 else "bg2"}">
        <dl class="postprofile"><dt><a href="/members/{user}/" class="username">{user}</a></dt>
          <dd>Posts: {count}</dd><dd>Joined: {joined}</dd></dl>
        <div class="postbody">
          <h3>{"" if i == 0 else "Re: "}{esc(item.title)}</h3>
          <p class="author">by <strong>{user}</strong> &raquo; {when.strftime("%a %b %d, %Y %I:%M %p")}</p>
          <div class="content">{q}{esc(text)}</div>
          <div class="signature">{esc(sig)}</div>
        </div>
        <ul class="post-buttons"><li><a href="#" class="button icon-quote">Quote</a></li><li><a href="#" class="button icon-report">Report</a></li></ul>
      </div>''')
    online = ", ".join(rng.sample(sorted(members), min(5, len(members))))
    return f'''<!DOCTYPE html>
<html dir="ltr" lang="en-gb">
<head><meta charset="utf-8"><title>{esc(item.title)} - Miniweb Forums</title>
<link rel="canonical" href="{esc(url(item.host, item.path))}">
<link href="/styles/prosilver/theme/stylesheet.css" rel="stylesheet"></head>
<body id="phpbb" class="section-viewtopic ltr">
<div id="wrap" class="wrap">
  <div class="headerbar" role="banner"><a id="logo" class="logo" href="/">Miniweb Forums</a>
    <p class="skiplink"><a href="#start_here">Skip to content</a></p>
    <div id="search-box" class="search-box"><form action="/search" method="get"><input name="keywords" placeholder="Search&hellip;"><button>Search</button></form></div></div>
  <div class="navbar" role="navigation"><ul class="nav-main"><li><a href="/faq">FAQ</a></li><li><a href="/register">Register</a></li><li><a href="/login">Login</a></li></ul>
    <ul class="nav-breadcrumbs"><li class="breadcrumbs"><a href="/">Board index</a> &laquo; <a href="/f/{key}/">{esc(board_name)}</a></li></ul></div>
  <div id="page-body" class="page-body" role="main">
    <h2 class="topic-title"><a href="{esc(item.path)}">{esc(item.title)}</a></h2>
    <div class="action-bar bar-top"><a href="/posting?mode=reply" class="button">Post Reply</a>
      <div class="pagination">{len(posts)} posts &bull; Page <strong>1</strong> of <strong>1</strong></div></div>
{chr(10).join(blocks)}
    <div class="action-bar bar-bottom"><a href="/posting?mode=reply" class="button">Post Reply</a></div>
    <div class="stat-block online-list"><h3>Who is online</h3><p>Users browsing this forum: {online} and 14 guests</p></div>
  </div>
  <div class="page-footer" role="contentinfo"><div class="copyright">Powered by a forum engine &copy; Miniweb Forums<br>Time zone: UTC</div>
    <p><a href="/privacy/">Privacy</a> | <a href="/terms/">Terms</a></p></div>
</div>
</body>
</html>
'''


def forum_index(boards: list, threads: dict) -> str:
    rows = []
    for key, name, desc in boards:
        topics = "".join(f'<li><a href="{esc(t.path)}">{esc(t.title)}</a></li>' for t in threads.get(key, [])[:8])
        rows.append(f'<li class="row"><dl><dt><a href="/f/{key}/" class="forumtitle">{esc(name)}</a><br>{esc(desc)}</dt>'
                    f'<dd class="topics">{len(threads.get(key, []))} topics</dd></dl><ul class="topiclist">{topics}</ul></li>')
    return f'''<!DOCTYPE html>
<html lang="en-gb"><head><meta charset="utf-8"><title>Miniweb Forums - Index page</title></head>
<body id="phpbb" class="section-index"><div id="wrap"><div class="headerbar"><a class="logo" href="/">Miniweb Forums</a></div>
<div id="page-body"><ul class="topiclist forums">
{chr(10).join(rows)}
</ul></div><div class="page-footer">Powered by a forum engine &copy; Miniweb Forums</div></div></body></html>
'''


# -- The Miniweb Quarterly (magazine.) -----------------------------------------------------------

def essay(item, url: Url, rng: random.Random, *, more: list) -> str:
    body = item.body
    pull = max(body[len(body) // 2].split(". "), key=len).strip().rstrip(".") + "."
    first = body[0]
    cards = "\n".join(f'    <a class="card" href="{esc(m.path)}"><span class="kicker">Essay</span><h4>{esc(m.title)}</h4>'
                      f'<span class="by">{esc(m.author)}</span></a>' for m in more)
    news_title, news_text = NEWSLETTER[2]
    return f'''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(item.title)} — The Miniweb Quarterly</title>
<meta name="viewport" content="width=device-width">
<meta property="og:title" content="{esc(item.title)}">
<meta property="og:description" content="{esc(item.dek)}">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{esc(url(item.host, item.path))}">
<link rel="stylesheet" href="/assets/quarterly.css">
</head>
<body class="essay-template">
<div class="gdpr-notice cookie-notice">{esc(COOKIE_BANNER["en"][0])} <a href="#" class="ok">OK</a></div>
<header class="masthead"><a href="/" class="wordmark">The Miniweb Quarterly</a>
  <nav class="menu"><a href="/essays/">Essays</a> <a href="/fiction/">Fiction</a> <a href="/archive/">Archive</a> <a href="/donate/" class="donate">Support us</a></nav></header>
<main>
<article class="essay h-entry">
  <header class="essay-header"><p class="kicker">Essay</p><h1 class="p-name">{esc(item.title)}</h1>
    <p class="dek">{esc(item.dek)}</p>
    <p class="meta">by <a class="p-author" href="/contributors/{item.author_slug}/">{esc(item.author)}</a> &middot; <time class="dt-published" datetime="{iso(item.when)}">{item.when.strftime("%B %Y")}</time> &middot; {max(1, item.words // 230)} min read</p></header>
  <div class="essay-body e-content">
      <p class="has-dropcap"><span class="dropcap">{esc(first[0])}</span>{esc(first[1:])}</p>
{paragraphs_html(body[1:len(body) // 2])}
      <blockquote class="pullquote" aria-hidden="true">{esc(pull)}</blockquote>
{paragraphs_html(body[len(body) // 2:])}
  </div>
  <footer class="author-bio"><img src="/assets/people/{item.author_slug}.jpg" alt=""><p><strong>{esc(item.author)}</strong> writes about books, the sea and the towns beside it. This is their {rng.choice(["first", "second", "third", "fifth"])} essay for the Quarterly.</p></footer>
</article>
<section class="newsletter-modal" role="dialog"><h3>{news_title}</h3><p>{news_text}</p><form><input type="email"><button>Subscribe</button></form></section>
<section class="more-essays"><h3>You might also like</h3>
{cards}
</section>
</main>
<footer class="site-footer"><p>The Miniweb Quarterly is a reader-supported magazine. <a href="/donate/">Become a member</a>.</p>
<p><a href="/about/">About</a> &middot; <a href="/submissions/">Submissions</a> &middot; <a href="/privacy/">Privacy</a></p></footer>
</body>
</html>
'''


def magazine_home(items: list) -> str:
    cards = "\n".join(f'<article class="teaser"><a href="{esc(i.path)}"><h2>{esc(i.title)}</h2></a><p>{esc(i.dek)}</p>'
                      f'<p class="by">{esc(i.author)}</p></article>' for i in items)
    return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The Miniweb Quarterly</title></head>
<body class="home"><header class="masthead"><a href="/" class="wordmark">The Miniweb Quarterly</a></header>
<main class="grid">
{cards}
</main><footer class="site-footer">The Miniweb Quarterly is a reader-supported magazine.</footer></body></html>
'''


# -- Miniweb Wire (wire.) ------------------------------------------------------------------------

def wire_copy(item, url: Url, *, original_url: str, body: list[str], dateline: str) -> str:
    first = f"{dateline} (Miniweb Wire) \u2014 {body[0]}"
    rest = paragraphs_html(body[1:], "        ")
    return f'''<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(item.title)} - Miniweb Wire</title>
<link rel="canonical" href="{esc(original_url)}">
</head>
<body bgcolor="#ffffff">
<table width="100%" class="wire-top"><tr><td><a href="/"><b>MINIWEB WIRE</b></a></td>
<td align="right"><a href="/latest/">Latest</a> | <a href="/world/">World</a> | <a href="/feeds/">Feeds for publishers</a></td></tr></table>
<table width="760" align="center"><tr>
<td valign="top" class="story">
        <h1>{esc(item.title)}</h1>
        <p class="credit">By {esc(item.author)}, The Miniweb Herald &mdash; {human_date(item.when)}</p>
        <p>{esc(first)}</p>
{rest}
        <p class="distribution">Distributed by Miniweb Wire Service. Originally published at <a href="{esc(original_url)}">The Miniweb Herald</a>.</p>
</td>
<td valign="top" width="170" class="rail"><div class="ad">Advertisement</div><p><a href="/latest/">More wire stories</a></p></td>
</tr></table>
<p align="center" class="legal"><small>Copyright Miniweb Wire. Republication of this story is licensed to member publications.</small></p>
</body>
</html>
'''


# -- Wikipedia mirror (wikimirror.) --------------------------------------------------------------

def wiki_article(art: dict, url: Url, host: str, path: str) -> str:
    title = art["title"]
    wtitle = title.replace(" ", "_")
    def cite(text: str) -> str:
        return re.sub(r"\[(\d+)\]", lambda m: f'<sup id="cite_ref-{m.group(1)}" class="reference">'
                      f'<a href="#cite_note-{m.group(1)}">[{m.group(1)}]</a></sup>', esc(text))

    infobox = "".join(f'<tr><th scope="row" class="infobox-label">{esc(k)}</th><td class="infobox-data">{esc(v)}</td></tr>'
                      for k, v in art["infobox"])
    lead = "\n".join(f"<p>{cite(p)}</p>" for p in art["lead"])
    toc = "".join(f'<li class="toclevel-1 tocsection-{i + 1}"><a href="#{h.replace(" ", "_")}"><span class="tocnumber">{i + 1}</span> '
                  f'<span class="toctext">{esc(h)}</span></a></li>' for i, (h, _) in enumerate(art["sections"]))
    sections = []
    for i, (heading, paras) in enumerate(art["sections"]):
        sections.append(f'<h2><span class="mw-headline" id="{heading.replace(" ", "_")}">{esc(heading)}</span>'
                        f'<span class="mw-editsection"><span class="mw-editsection-bracket">[</span><a href="/w/index.php?title={wtitle}&amp;action=edit&amp;section={i + 1}" title="Edit section: {esc(heading)}">edit</a><span class="mw-editsection-bracket">]</span></span></h2>\n'
                        + "\n".join(f"<p>{cite(p)}</p>" for p in paras))
    refs = "".join(f'<li id="cite_note-{i + 1}"><span class="mw-cite-backlink"><a href="#cite_ref-{i + 1}">^</a></span> '
                   f'<span class="reference-text">{esc(r)}</span></li>' for i, r in enumerate(art["references"]))
    cats = " ".join(f'<li><a href="/wiki/Category:{c.replace(" ", "_")}">{esc(c)}</a></li>' for c in art["categories"])
    wp = f"https://en.wikipedia.org/w/index.php?title={wtitle}&amp;oldid={art['oldid']}"
    return f'''<!DOCTYPE html>
<html class="client-nojs" lang="en" dir="ltr">
<head>
<meta charset="UTF-8"/>
<title>{esc(title)} - Wikipedia</title>
<meta name="generator" content="MediaWiki 1.31.0-wmf.8"/>
<link rel="canonical" href="https://en.wikipedia.org/wiki/{wtitle}"/>
<link rel="license" href="//creativecommons.org/licenses/by-sa/3.0/"/>
</head>
<body class="mediawiki ltr sitedir-ltr mw-hide-empty-elt ns-0 ns-subject page-{wtitle} rootpage-{wtitle} skin-vector action-view">
<div class="mirror-banner">WikiMirror: a fast mirror of Wikipedia. Not affiliated with the Wikimedia Foundation.</div>
<div id="mw-page-base" class="noprint"></div>
<div id="mw-head-base" class="noprint"></div>
<div id="content" class="mw-body" role="main">
  <a id="top"></a>
  <h1 id="firstHeading" class="firstHeading" lang="en">{esc(title)}</h1>
  <div id="bodyContent" class="mw-body-content">
    <div id="siteSub" class="noprint">From Wikipedia, the free encyclopedia</div>
    <div id="contentSub"></div>
    <div id="jump-to-nav" class="mw-jump">Jump to: <a href="#mw-head">navigation</a>, <a href="#p-search">search</a></div>
    <div id="mw-content-text" lang="en" dir="ltr" class="mw-content-ltr"><div class="mw-parser-output">
<div role="note" class="hatnote navigation-not-searchable">{esc(art["hatnote"])}</div>
<table class="infobox vcard" style="width:22em"><tbody><tr><th colspan="2" class="infobox-above">{esc(title)}</th></tr>{infobox}</tbody></table>
{lead}
<div id="toc" class="toc"><div class="toctitle" lang="en" dir="ltr"><h2>Contents</h2></div><ul>{toc}</ul></div>
{chr(10).join(sections)}
<h2><span class="mw-headline" id="References">References</span></h2>
<div class="reflist" style="list-style-type: decimal;"><ol class="references">{refs}</ol></div>
</div></div>
    <div class="printfooter">Retrieved from "<a dir="ltr" href="{wp}">{wp}</a>"</div>
    <div id="catlinks" class="catlinks" data-mw="interface"><div id="mw-normal-catlinks" class="mw-normal-catlinks"><a href="/wiki/Help:Category" title="Help:Category">Categories</a>: <ul>{cats}</ul></div></div>
  </div>
</div>
<div id="mw-navigation"><h2>Navigation menu</h2>
  <div id="mw-panel"><div class="portal" role="navigation" id="p-navigation"><h3>Navigation</h3><ul>
    <li id="n-mainpage-description"><a href="/wiki/Main_Page">Main page</a></li><li id="n-contents"><a href="/wiki/Portal:Contents">Contents</a></li>
    <li id="n-currentevents"><a href="/wiki/Portal:Current_events">Current events</a></li><li id="n-randompage"><a href="/wiki/Special:Random">Random article</a></li>
    <li id="n-aboutsite"><a href="/wiki/Wikipedia:About">About Wikipedia</a></li></ul></div></div>
</div>
<div id="footer" role="contentinfo"><ul id="footer-info">
  <li id="footer-info-lastmod"> This page was last edited on 14 November 2017, at 09:12.</li>
  <li id="footer-info-copyright">Text is available under the <a rel="license" href="//en.wikipedia.org/wiki/Wikipedia:Text_of_Creative_Commons_Attribution-ShareAlike_3.0_Unported_License">Creative Commons Attribution-ShareAlike License</a>; additional terms may apply.</li></ul>
  <ul id="footer-places"><li><a href="/wiki/Wikipedia:Privacy_policy">Privacy policy</a></li><li><a href="/wiki/Wikipedia:About">About Wikipedia</a></li><li><a href="/wiki/Wikipedia:General_disclaimer">Disclaimers</a></li></ul>
</div>
</body>
</html>
'''


# -- Harbour Goods (shop.) -----------------------------------------------------------------------

def product_page(n: int, product: tuple, rng: random.Random) -> str:
    name, price, blurb, specs = product
    spec_html = "".join(f"<li>{esc(s)}</li>" for s in specs)
    reviews = "".join(f'<li class="review"><span class="stars">{"★" * rng.randrange(3, 6)}</span> {esc(r)}</li>'
                      for r in rng.sample(PRODUCT_REVIEWS, 2))
    return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(name)} | Harbour Goods</title>
<script type="application/ld+json">{json.dumps({"@type": "Product", "name": name, "offers": {"price": price, "priceCurrency": "GBP"}})}</script></head>
<body class="product-page">
{cookie_banner()}
<header><a href="/" class="logo">Harbour Goods</a><nav><a href="/shop/">Shop</a> <a href="/cart/">Basket (0)</a> <a href="/account/">Account</a></nav></header>
<main><div class="product" id="product-{n}"><img src="/img/p{n}.jpg" alt="{esc(name)}">
<h1>{esc(name)}</h1><p class="price">&pound;{price}</p><p class="description">{esc(blurb)}</p>
<ul class="specs">{spec_html}</ul>
<form action="/cart/add" method="post"><input type="hidden" name="id" value="{n}"><label>Quantity <input name="qty" value="1" size="2"></label><button>Add to basket</button></form>
<p class="shipping">Free delivery on orders over &pound;50. Returns accepted within 30 days.</p></div>
<section class="reviews"><h2>Customer reviews</h2><ul>{reviews}</ul></section>
<section class="also-bought"><h2>Customers also bought</h2><ul><li><a href="/product/1">Brass Ship's Lantern</a></li><li><a href="/product/5">Linen Bookmark Bundle</a></li></ul></section></main>
<footer><p>&copy; Harbour Goods Ltd. <a href="/terms/">Terms</a> <a href="/privacy/">Privacy</a></p></footer>
</body></html>
'''


# -- A foreign-language news site (intl.) --------------------------------------------------------

def intl_article(lang: str, chrome: dict, title: str, paras: list[str], when: datetime, canonical: str) -> str:
    nav = " ".join(f'<a href="/{lang}/{s.lower()}/">{esc(s)}</a>' for s in chrome["sections"])
    return f'''<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{esc(title)}</title>
<meta property="og:locale" content="{lang}_{lang.upper()}"><link rel="canonical" href="{esc(canonical)}"></head>
<body>
{cookie_banner(lang)}
<header><a class="logo" href="/{lang}/">Miniweb International</a><nav><a href="/{lang}/">{esc(chrome["home"])}</a> {nav}</nav></header>
<main><article>
<h1>{esc(title)}</h1>
<p class="auteur byline">{esc(chrome["by"])} &middot; <time datetime="{iso(when)}">{when.strftime("%d/%m/%Y")}</time></p>
<div class="article-content">
{paragraphs_html(paras, "")}
</div>
<div class="partage">{esc(chrome["share"])}: <a href="https://twitter.com/">Twitter</a> <a href="https://www.facebook.com/">Facebook</a></div>
</article>
<aside class="related"><h2>{esc(chrome["related"])}</h2></aside></main>
<footer><p>{esc(chrome["footer"])}</p></footer>
</body></html>
'''


# -- An old hand-made site (old.) ----------------------------------------------------------------

def old_page(title: str, paras: list[str], charset: str) -> str:
    body = "\n".join(f"<p>{esc(p)}</p>" for p in paras)
    return f'''<HTML>
<HEAD>
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset={charset}">
<TITLE>{esc(title)}</TITLE>
</HEAD>
<BODY BGCOLOR="#FFFFF0" TEXT="#000000" LINK="#0000EE">
<CENTER><FONT SIZE="+2"><B>{esc(title)}</B></FONT><BR>
<A HREF="/">Home</A> | <A HREF="/essays/">Essays</A> | <A HREF="/links.html">Links</A> | <A HREF="/guestbook.html">Guestbook</A></CENTER>
<HR>
<TABLE WIDTH="600" ALIGN="center"><TR><TD>
{body}
</TD></TR></TABLE>
<HR>
<CENTER><FONT SIZE="-1">You are visitor number 004213. Best viewed in any browser at 800x600.</FONT></CENTER>
</BODY>
</HTML>
'''


def tiny_page(title: str, text: str) -> str:
    return f'<html><head><title>{esc(title)}</title></head><body><p>{esc(text)}</p></body></html>\n'


EMPTY_DOCUMENT = "<html><head><title></title></head><body></body></html>\n"


def legal_page(site: str, kind: str) -> str:
    heading, text = LEGAL[kind]
    return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(heading)} | {esc(site)}</title></head>
<body><header><a href="/">{esc(site)}</a></header><main><h1>{esc(heading)}</h1><p>{esc(text.format(site=site))}</p>
<address>{esc(site)}, 1 Harbour Street, Miniweb</address></main><footer>&copy; {esc(site)}</footer></body></html>
'''


def not_found_page(host: str, path: str) -> str:
    return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title></head>
<body><h1>Not Found</h1><p>The requested URL {esc(path)} was not found on this server.</p>
<hr><address>miniweb/1.0 at {esc(host)}</address></body></html>
'''
