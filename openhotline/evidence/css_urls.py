"""The URLs a piece of CSS loads: `url(…)` tokens, `url("…")` functions and the strings of
`image-set()`, found with tinycss2's tokenizer (linear in the input; a `url(` regex was
quadratic on a page of unbalanced `url(`).

Hostile pages send megabytes of CSS, so the text is tokenized in pieces of at most
PIECE_CHARS, cut where a rule ends if one does, and the caller's clock is asked between
pieces. A piece that cannot load anything (no `url`, no `image-set`, no escape) is not
tokenized at all. A cut inside a string or comment may cost a URL at the seam; the page
is its author's to hide things in anyway.
"""

import re
from collections.abc import Callable

import tinycss2
import tinycss2.ast

PIECE_CHARS = 64 * 1024
_MAY_LOAD = re.compile(r"url|image-set|\\", re.I)
_IMAGE_SETS = ("image-set", "-webkit-image-set")
_BLOCKS = (
    tinycss2.ast.ParenthesesBlock, tinycss2.ast.SquareBracketsBlock,
    tinycss2.ast.CurlyBracketsBlock,
)  # fmt: skip


def css_urls(css: str, out_of_time: Callable[[], bool]) -> tuple[list[str], bool]:
    """The URLs in `css` in source order, and whether the clock stopped the search."""
    found: list[str] = []
    for piece in _pieces(css):
        if out_of_time():
            return found, True
        if _MAY_LOAD.search(piece):
            found.extend(_urls_in(tinycss2.parse_component_value_list(piece)))
    return found, False


def _pieces(css: str) -> list[str]:
    pieces = []
    start = 0
    while len(css) - start > PIECE_CHARS:
        end = start + PIECE_CHARS
        cut = css.rfind("}", start, end) + 1 or css.rfind(";", start, end) + 1 or end
        pieces.append(css[start:cut])
        start = cut
    pieces.append(css[start:])
    return pieces


def _urls_in(nodes: list[tinycss2.ast.Node]) -> list[str]:
    """Walks nested blocks with an explicit stack: tinycss2 nests as deep as the text
    does (a page of `((((` would overflow a recursive walk)."""
    urls: list[str] = []
    stack = [iter(nodes)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            continue
        if isinstance(node, tinycss2.ast.URLToken):
            urls.append(node.value)
        elif isinstance(node, tinycss2.ast.FunctionBlock):
            if node.lower_name == "url":
                urls.extend(_strings(node.arguments)[:1])
                continue
            if node.lower_name in _IMAGE_SETS:
                urls.extend(_strings(node.arguments))
            stack.append(iter(node.arguments))
        elif isinstance(node, _BLOCKS):
            stack.append(iter(node.content))
    return [url.strip() for url in urls if url.strip()]


def _strings(arguments: list[tinycss2.ast.Node]) -> list[str]:
    return [node.value for node in arguments if isinstance(node, tinycss2.ast.StringToken)]
