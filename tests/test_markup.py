"""Markdown rendering: extensions, heading levels, link resolution, plain text."""

from builder.content.markup import REF_SCHEME, MarkdownRenderer, plain_text


def test_extensions_and_typography() -> None:
    out = MarkdownRenderer().render(
        'It\'s "quoted".\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1].\n\n[^1]: The note.\n\n'
        '*[UN]: United Nations\n\nThe UN met.\n\n```\ncode\n```\n', "")
    assert "It’s “quoted”." in out.html
    assert "<table>" in out.html
    assert 'class="footnote"' in out.html
    assert '<abbr title="United Nations">UN</abbr>' in out.html
    assert "<pre><code>code" in out.html


def test_headings_start_at_h2_whatever_the_author_used() -> None:
    renderer = MarkdownRenderer()
    assert "<h2" in renderer.render("# Top\n\n## Sub", "").html
    assert "<h1" not in renderer.render("# Top\n\n## Sub", "").html
    out = renderer.render("## Top\n\n### Sub", "")
    assert [(h.level, h.anchor) for h in out.headings] == [(2, "top"), (3, "sub")]


def test_instance_is_reset_between_documents() -> None:
    renderer = MarkdownRenderer()
    renderer.render("Text[^1]\n\n[^1]: first note", "")
    second = renderer.render("## Only heading", "")
    assert "first note" not in second.html
    assert [h.text for h in second.headings] == ["Only heading"]


def test_relative_links_and_images_resolve_against_the_article_folder() -> None:
    out = MarkdownRenderer(asset_prefix="/news/").render(
        "[other](../culture/other.md#part) ![map](map.svg) [ext](https://x.org) [abs](/a/)", "peace")
    assert f'href="{REF_SCHEME}culture/other.md#part"' in out.html
    assert 'src="/news/peace/map.svg"' in out.html and 'loading="lazy"' in out.html
    assert 'href="https://x.org"' in out.html and 'href="/a/"' in out.html
    assert out.links == ("culture/other.md", "peace/map.svg")


def test_lone_titled_image_becomes_a_figure() -> None:
    out = MarkdownRenderer().render('![A dove](dove.svg "Drawn by our desk")', "")
    assert "<figure>" in out.html and "<figcaption>Drawn by our desk</figcaption>" in out.html


def test_plain_text_and_first_paragraph() -> None:
    out = MarkdownRenderer().render("First *one*, with &amp; sign.\n\nSecond.", "")
    assert out.first_paragraph == "First one, with & sign."
    assert out.text == "First one, with & sign. Second."
    assert plain_text("<p>a</p><p>b<br>c</p>") == "a b c"


def test_smart_typography_skips_code_and_attributes() -> None:
    from builder.content.typography import smarten

    assert smarten('<p>It\'s "quoted" -- and --- ...</p>') == "<p>It’s “quoted” – and — …</p>"
    assert smarten('<p>"<em>Emphasised</em>," she said.</p>') == "<p>“<em>Emphasised</em>,” she said.</p>"
    assert smarten('<pre><code>x = "a" -- b</code></pre>') == '<pre><code>x = "a" -- b</code></pre>'
    assert smarten('<a href="a--b" title="it\'s">it\'s</a>') == '<a href="a--b" title="it\'s">it’s</a>'
    assert smarten("<p>the '90s ('x')</p>") == "<p>the ’90s (‘x’)</p>"
