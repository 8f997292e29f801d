"""JSON-LD for search engines (schema.org NewsArticle, WebSite, Organization), safe inside <script>."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from builder.views import Card

# Inside <script>, "</script>" or "<!--" in a value would end or confuse the element: escape < > &.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def to_script(data: Any) -> Markup:
    # Compact output: json's C encoder is used only without indent (ten times faster on big sites).
    return Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE))


def organization(name: str, home: str, logo: str | None) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": name, "url": home}
    if logo:
        org["logo"] = {"@type": "ImageObject", "url": logo}
    return org


def news_article(card: Card, *, canonical: str, origin: str, publisher: dict[str, Any]) -> Markup:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": card.title,
        "description": card.summary,
        "datePublished": card.date_iso,
        "dateModified": card.updated_iso or card.date_iso,
        "author": [{"@type": "Person", "name": a.name, "url": origin + a.url} for a in card.authors],
        "publisher": publisher,
        "articleSection": card.topic.title,
        "keywords": [t.name for t in card.tags],
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "url": canonical,
    }
    if card.image:
        data["image"] = [card.image.absolute]
    return to_script(data)


def home_graph(*, name: str, home: str, description: str, language: str, publisher: dict[str, Any]) -> Markup:
    return to_script({
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": name, "url": home, "description": description, "inLanguage": language,
             "publisher": {"@id": home + "#organization"}},
            {**publisher, "@id": home + "#organization"},
        ],
    })
