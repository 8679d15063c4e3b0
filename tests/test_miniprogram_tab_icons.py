"""The mini program's tab bar in both themes (issue 22): every tab icon and label stands out from
the bar at 3:1 or more (WCAG 2.1, non-text contrast), measured on the icons' own pixels, as
app.json and theme.json name them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

SRC = Path(__file__).resolve().parent.parent / "miniprogram" / "src"
THEMES = json.loads((SRC / "theme.json").read_text(encoding="utf-8"))
TABS = json.loads((SRC / "app.json").read_text(encoding="utf-8"))["tabBar"]


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def themed(theme: str, value: str) -> str:
    return str(THEMES[theme][value[1:]]) if value.startswith("@") else value


def ink(path: Path) -> tuple[int, int, int]:
    """The icon's drawing colour: the mean of its mostly opaque pixels."""
    raw = Image.open(path).convert("RGBA").tobytes()
    pixels = [raw[i:i + 4] for i in range(0, len(raw), 4) if raw[i + 3] >= 200]
    assert pixels, f"{path.name} draws nothing opaque"
    return tuple(round(sum(p[i] for p in pixels) / len(pixels)) for i in range(3))  # type: ignore[return-value]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_tab_icon_and_label_stands_out_from_the_bar(theme: str) -> None:
    background = hex_rgb(themed(theme, TABS["backgroundColor"]))
    for key in ("color", "selectedColor"):
        assert contrast(hex_rgb(themed(theme, TABS[key])), background) >= 3.0, (theme, key)
    for tab in TABS["list"]:
        for key in ("iconPath", "selectedIconPath"):
            icon = SRC / themed(theme, tab[key])
            measured = contrast(ink(icon), background)
            assert measured >= 3.0, (theme, icon.name, round(measured, 2))


def test_the_contrast_measure_fails_a_faint_icon() -> None:
    """The control: the issue's finding, the light theme's selected icon (#0958D9) on the dark bar
    at 2.68:1, fails; the dark theme's own (#3C9AE8) passes."""
    assert contrast((0x1F, 0x1F, 0x1F), (0x1F, 0x1F, 0x1F)) == pytest.approx(1.0)
    assert round(contrast(hex_rgb("#0958D9"), hex_rgb("#1f1f1f")), 2) == 2.68
    assert contrast(hex_rgb("#3C9AE8"), hex_rgb("#1f1f1f")) >= 3.0
