"""Pixel sizes of images, so pages can reserve their space (width/height) before they load."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from pathlib import Path

_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(px)?\s*$")


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in CSS pixels, or None when the file is not an image we can measure."""
    if path.suffix.lower() == ".svg":
        return _svg_size(path)
    from PIL import Image, UnidentifiedImageError  # here: most builds measure no image (sizes are cached)

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None


def _svg_size(path: Path) -> tuple[int, int] | None:
    try:
        root = etree.parse(path).getroot()
    except (etree.ParseError, OSError):
        return None
    width, height = _length(root.get("width")), _length(root.get("height"))
    if width and height:
        return round(width), round(height)
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        box_width, box_height = float(box[2]), float(box[3])
    except (IndexError, ValueError):
        return None
    if width:
        return round(width), round(width * box_height / box_width)
    return round(box_width), round(box_height)


def _length(value: str | None) -> float | None:
    match = _LENGTH.match(value or "")
    return float(match.group(1)) if match else None
