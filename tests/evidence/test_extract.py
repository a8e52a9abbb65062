"""Finding media on a page: every way a page shows an image or a video."""

from openhotline.evidence.extract import decode_html, find_media

PAGE = """<!doctype html><html><head>
<base href="/gallery/">
<meta property="og:image" content="https://cdn.test/og.jpg">
<style>.hero { background-image: url('hero.png') } .x{background:url(x.webp)}</style>
</head><body>
<img src="a.jpg" srcset="a-2x.jpg 2x, a-small.jpg 300w">
<img data-src="lazy.png">
<picture><source srcset="p.avif" type="image/avif"><img src="p.jpg"></picture>
<video src="clip.mp4" poster="poster.jpg"><source src="clip.webm"></video>
<a href="/files/full.PNG?dl=1">full size</a> <a href="/about">about</a>
<div style="background-image: url(&quot;div-bg.gif&quot;)"></div>
<img src="a.jpg"><img src="data:image/png;base64,AAAA"><img src="javascript:x">
<img src="ftp://old.test/x.jpg">
</body></html>"""


def test_it_finds_every_kind_of_media_reference_once() -> None:
    found = find_media(PAGE, "http://site.test/index.html")
    urls = [f.url for f in found]
    assert urls == [
        "https://cdn.test/og.jpg",
        "http://site.test/gallery/hero.png",
        "http://site.test/gallery/x.webp",
        "http://site.test/gallery/a.jpg",
        "http://site.test/gallery/a-2x.jpg",
        "http://site.test/gallery/a-small.jpg",
        "http://site.test/gallery/lazy.png",
        "http://site.test/gallery/p.avif",
        "http://site.test/gallery/p.jpg",
        "http://site.test/gallery/clip.mp4",
        "http://site.test/gallery/poster.jpg",
        "http://site.test/gallery/clip.webm",
        "http://site.test/files/full.PNG?dl=1",
        "http://site.test/gallery/div-bg.gif",
    ]
    kinds = {f.url.rsplit("/", 1)[-1]: f.found_in for f in found}
    assert kinds["og.jpg"] == "og" and kinds["hero.png"] == "css"
    assert kinds["a-2x.jpg"] == "srcset" and kinds["poster.jpg"] == "poster"
    assert kinds["full.PNG?dl=1"] == "link" and kinds["clip.mp4"] == "video"


def test_malformed_markup_never_raises() -> None:
    for html in ["<img src=", "<<<>>>", "<img src='a.jpg'" * 1000, "\x00<img src=x.png>", ""]:
        find_media(html, "http://site.test/")


def test_it_decodes_with_the_declared_charset_and_survives_nonsense() -> None:
    assert decode_html("é".encode("latin-1"), "text/html; charset=latin-1") == "é"
    assert decode_html(b"\xff\xfe", "text/html; charset=no-such-codec") == "\ufffd\ufffd"


def test_css_is_read_as_a_browser_tokenizes_it() -> None:
    page = """<style>
    .a { background: URL( 'upper.png' ) }
    .b { background-image: image-set("set-1x.png" 1x, url(set-2x.png) 2x) }
    .c { background: \\75rl(escaped.png) }
    .d::after { content: "url(in-a-string.png)" }
    /* url(in-a-comment.png) */
    @font-face { src: url(font.woff2) }
    </style><P STYLE="background:url(upper-tag.gif)"></P>"""
    names = [f.url.rsplit("/", 1)[-1] for f in find_media(page, "http://site.test/")]
    assert names == [
        "upper.png", "set-1x.png", "set-2x.png", "escaped.png", "font.woff2", "upper-tag.gif",
    ]  # fmt: skip


def test_an_unclosed_style_is_still_read() -> None:
    found = find_media("<style>.a{background:url(late.png)}", "http://site.test/")
    assert [(f.url, f.found_in) for f in found] == [("http://site.test/late.png", "css")]
