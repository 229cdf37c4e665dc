"""The report's charts: matplotlib figures rendered to PNG bytes (Agg), each with a title and labelled axes.

Figures are built with matplotlib.figure.Figure directly, not pyplot, so no global backend or
figure registry is touched (safe inside a larger program) and nothing stays open. Every function
takes plain lists and returns PNG bytes; the caller embeds them as base64.
"""

from __future__ import annotations

import io
import math
from typing import Optional, Sequence

PALETTE = ("#3b6ea8", "#e07b39", "#55a868", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c")
INK = "#2b2b2b"
GRID = "#e3e3e3"
WIDTH = 8.6  # inches; at the default 100 dpi, an ~860-pixel plot that fills the page's column


def _figure(height: float = 3.4, width: float = WIDTH):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9a9a9a")
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, dpi: int) -> bytes:
    ax.set_title(title, fontsize=11.5, color=INK, loc="left", pad=10, fontweight="bold")
    ax.set_xlabel(xlabel, fontsize=9.5, color=INK)
    ax.set_ylabel(ylabel, fontsize=9.5, color=INK)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white", pad_inches=0.12)
    return buf.getvalue()


def human(n: float) -> str:
    """12345 -> '12.3k': short labels for bars and ticks."""
    n = float(n)
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            v = n / div
            return f"{v:.1f}{suffix}" if v < 100 else f"{v:.0f}{suffix}"
    return f"{n:.0f}" if n == int(n) else f"{n:.3g}"


def bucket_label(bucket: str) -> str:
    """A log2 histogram bucket as a short half-open range: '1024-2047' -> '1k-2k', '1' -> '1'."""
    if "-" not in bucket:
        return bucket
    lo, hi = bucket.split("-", 1)
    try:
        return f"{_binary(int(lo))}\u2013{_binary(int(hi) + 1)}"
    except ValueError:
        return bucket


def _binary(n: int) -> str:
    for shift, suffix in ((40, "T"), (30, "G"), (20, "M"), (10, "k")):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{suffix}"
    return str(n)


def axis_number(v: float) -> str:
    """Tick labels: exact where short ('1,250'), scaled where long ('2.5M'); ticks are round numbers."""
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e9:
        return f"{v / 1e9:g}G"
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}"
    return f"{v:.3g}"


def _short(label: str, width: int = 34) -> str:
    return label if len(label) <= width else label[: width - 1] + "\u2026"


def barh(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str, ylabel: str = "",
         dpi: int = 100, percent: bool = False, color: str = PALETTE[0], log: bool = False,
         colors: Optional[Sequence[str]] = None) -> bytes:
    """Horizontal bars, the first label on top, each bar labelled with its value."""
    n = len(labels)
    fig, ax = _figure(height=max(1.6, 0.8 + 0.27 * n))
    ys = list(range(n))[::-1]
    ax.barh(ys, values, color=list(colors) if colors else color, height=0.7)
    ax.set_yticks(ys, [_short(str(x)) for x in labels])
    ax.grid(False, axis="y")
    top = max(values) if values else 1
    for y, v in zip(ys, values):
        text = f"{100 * v:.1f}%" if percent else human(v)
        ax.text(v * (1.05 if log else 1) + (0 if log else top * 0.01), y, text, va="center", fontsize=8, color=INK)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(left=0.8, right=top * 4)
    else:
        ax.set_xlim(0, top * 1.14 if top > 0 else 1)
        if percent:
            ax.xaxis.set_major_formatter(_percent())
        else:
            ax.xaxis.set_major_formatter(_formatter(axis_number))
    return _finish(fig, ax, title, xlabel, ylabel, dpi)


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0)  # picks as many decimals as the tick spacing needs


def _formatter(fn):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fn(v))


def bars(categories: Sequence[str], series: dict, *, title: str, xlabel: str, ylabel: str, dpi: int = 100,
         logy: bool = False, percent: bool = False, colors: Optional[Sequence[str]] = None,
         rotate: Optional[int] = None) -> bytes:
    """Vertical bars over categories; several series are grouped side by side with a legend."""
    n = len(categories)
    k = max(1, len(series))
    fig, ax = _figure()
    width = 0.8 / k
    xs = list(range(n))
    for i, (name, values) in enumerate(series.items()):
        offset = (i - (k - 1) / 2) * width
        color = (colors[i] if colors and i < len(colors) else PALETTE[i % len(PALETTE)])
        ax.bar([x + offset for x in xs], values, width=width * 0.92, label=name, color=color)
    step = max(1, math.ceil(n / 28))
    shown = xs[::step]
    ax.set_xticks(shown, [_short(str(categories[x]), 14) for x in shown],
                  rotation=rotate if rotate is not None else (45 if n > 10 else 0),
                  ha="right" if (rotate or n > 10) else "center")
    ax.grid(False, axis="x")
    if logy:
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_percent() if percent else _formatter(axis_number))
    if k > 1:
        ax.legend(frameon=False, fontsize=8.5)
    return _finish(fig, ax, title, xlabel, ylabel, dpi)


def timeline(xs: Sequence[float], ys: Sequence[float], *, title: str, xlabel: str, ylabel: str, dpi: int = 100,
             width: float = 1 / 12) -> bytes:
    """Bars on a continuous axis (e.g. fractional years), for counts per month."""
    fig, ax = _figure()
    if len(xs) > 36:  # many months: a filled step line reads better than hairline bars
        ax.fill_between(list(xs) + [xs[-1] + width], list(ys) + [ys[-1]], step="post", color=PALETTE[0], alpha=0.85,
                        linewidth=0)
    else:
        ax.bar(xs, ys, width=width * 0.9, align="edge", color=PALETTE[0])
    ax.yaxis.set_major_formatter(_formatter(axis_number))
    ax.grid(False, axis="x")
    lo, hi = (min(xs), max(xs) + width) if xs else (0, 1)
    span = hi - lo
    if span >= 2:  # whole years on the axis
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
        ax.xaxis.set_major_formatter(_formatter(lambda v: f"{v:.0f}"))
    else:
        ax.xaxis.set_major_formatter(_formatter(_month_label))
        ax.set_xticks([x for x in xs][:: max(1, len(xs) // 12)])
    ax.set_xlim(lo - width, hi + width)
    return _finish(fig, ax, title, xlabel, ylabel, dpi)


def _month_label(v: float) -> str:
    year = int(math.floor(v + 1e-6))
    month = int(round((v - year) * 12)) + 1
    return f"{year}-{min(max(month, 1), 12):02d}"


def lines(series: Sequence[dict], *, title: str, xlabel: str, ylabel: str, dpi: int = 100, logy: bool = False,
          height: float = 3.4) -> bytes:
    """Curves over a shared x axis. Each series: {"name", "x", "y", optional "marker", "color"}."""
    fig, ax = _figure(height=height)
    for i, s in enumerate(series):
        color = s.get("color") or PALETTE[i % len(PALETTE)]
        if s.get("marker"):
            ax.plot(s["x"], s["y"], marker=s["marker"], linestyle="-", linewidth=1.3, markersize=4,
                    color=color, label=s["name"])
        else:
            ax.plot(s["x"], s["y"], linewidth=1.4, color=color, label=s["name"])
    if logy:
        ax.set_yscale("log")
    else:
        ax.yaxis.set_major_formatter(_formatter(axis_number))
    ax.xaxis.set_major_formatter(_formatter(axis_number))
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8.5)
    return _finish(fig, ax, title, xlabel, ylabel, dpi)


def funnel(steps: Sequence[str], values: Sequence[float], units: Sequence[str], *, title: str, dpi: int = 100) -> bytes:
    """One bar per pipeline step on a log axis (counts shrink by orders of magnitude), labelled."""
    n = len(steps)
    fig, ax = _figure(height=max(1.8, 0.9 + 0.38 * n))
    ys = list(range(n))[::-1]
    colors = [PALETTE[0] if u != "tokens" else PALETTE[2] for u in units]
    positive = [max(v, 0.9) for v in values]
    ax.barh(ys, positive, color=colors, height=0.66)
    ax.set_yticks(ys, [_short(s, 40) for s in steps])
    ax.grid(False, axis="y")
    ax.set_xscale("log")
    top = max(positive) if positive else 1
    ax.set_xlim(0.8, top * 12)
    for y, v, u in zip(ys, values, units):
        ax.text(max(v, 0.9) * 1.12, y, f"{v:,.0f} {u}", va="center", fontsize=8.5, color=INK)
    return _finish(fig, ax, title, "count (log scale)", "", dpi)


def shard_bars(names: Sequence[str], splits: Sequence[str], tokens: Sequence[float], *, dpi: int = 100) -> bytes:
    """One bar per shard in file order, coloured by split, with a legend of the splits."""
    fig, ax = _figure()
    order = sorted(set(splits), key=lambda s: (s != "train", s))
    color = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(order)}
    xs = list(range(len(names)))
    for split in order:
        idx = [i for i in xs if splits[i] == split]
        ax.bar(idx, [tokens[i] for i in idx], color=color[split], label=split, width=0.8)
    step = max(1, math.ceil(len(names) / 24))
    ax.set_xticks(xs[::step], [_short(names[i], 18) for i in xs[::step]], rotation=45 if len(names) > 6 else 0,
                  ha="right" if len(names) > 6 else "center")
    ax.grid(False, axis="x")
    ax.yaxis.set_major_formatter(_formatter(axis_number))
    ax.legend(frameon=False, fontsize=8.5, title="split", title_fontsize=8.5)
    return _finish(fig, ax, "Tokens per shard", "shard file", "tokens", dpi)
