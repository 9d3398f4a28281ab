"""Word-level diffs of two texts, for change reports in the terminal and in HTML."""

from __future__ import annotations

import difflib
import html
import re

Op = tuple[str, str]  # ('equal' | 'insert' | 'delete', text)

_TOKEN = re.compile(r"\S+")
_CONTEXT_WORDS = 8  # words of unchanged text kept on each side of a change when eliding


def _words(line: str) -> list[str]:
    return _TOKEN.findall(line)


def _append(ops: list[Op], tag: str, text: str) -> None:
    if not text:
        return
    if ops and ops[-1][0] == tag:
        prev = ops[-1][1]
        sep = "" if prev.endswith("\n") or text.startswith("\n") else " "
        ops[-1] = (tag, prev + sep + text)
    else:
        ops.append((tag, text))


def word_diff(a: str, b: str) -> list[Op]:
    """Ops turning text a into text b, word by word; lines are kept as '\\n'-separated units.

    Lines are aligned first (cheap, hashable), then words only inside replaced line blocks,
    so 50k-word texts with a few edits diff quickly.
    """
    la, lb = a.split("\n") if a else [], b.split("\n") if b else []
    ops: list[Op] = []
    lines = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag == "equal":
            _append(ops, "equal", "\n".join(la[i1:i2]) + "\n")
        elif tag == "delete":
            _append(ops, "delete", "\n".join(la[i1:i2]) + "\n")
        elif tag == "insert":
            _append(ops, "insert", "\n".join(lb[j1:j2]) + "\n")
        else:
            wa = [w for line in la[i1:i2] for w in _words(line) + ["\n"]]
            wb = [w for line in lb[j1:j2] for w in _words(line) + ["\n"]]
            sm = difflib.SequenceMatcher(None, wa, wb, autojunk=len(wa) + len(wb) > 20_000)
            for wtag, x1, x2, y1, y2 in sm.get_opcodes():
                if wtag in ("equal", "delete", "replace"):
                    _append(ops, "equal" if wtag == "equal" else "delete", _join(wa[x1:x2]))
                if wtag in ("insert", "replace"):
                    _append(ops, "insert", _join(wb[y1:y2]))
    # The final newline added to every block is an artefact of the line split.
    if ops and ops[-1][1].endswith("\n"):
        last_tag, last_text = ops[-1]
        ops[-1] = (last_tag, last_text[:-1])
        if not ops[-1][1]:
            ops.pop()
    return ops


def _join(tokens: list[str]) -> str:
    out = ""
    for tok in tokens:
        if tok == "\n":
            out += "\n"
        else:
            out += ("" if not out or out.endswith("\n") else " ") + tok
    return out


def diff_summary(ops: list[Op], max_snippets: int = 5) -> dict:
    """Counts of added and removed words plus a few short changed snippets."""
    added = sum(len(_words(t)) for tag, t in ops if tag == "insert")
    removed = sum(len(_words(t)) for tag, t in ops if tag == "delete")
    snippets: list[dict[str, str]] = []
    for tag, text in ops:
        if tag != "equal" and len(snippets) < max_snippets:
            words = _words(text)
            snippet = " ".join(words[:25]) + (" ..." if len(words) > 25 else "")
            snippets.append({"op": tag, "text": snippet})
    return {"added": added, "removed": removed, "snippets": snippets}


def _elide(text: str, first: bool, last: bool) -> str:
    """Shorten a long unchanged run to some context next to the changes around it."""
    words = text.split()
    keep = _CONTEXT_WORDS
    if len(words) <= 2 * keep + 1:
        return text
    head = [] if first else words[:keep]
    tail = [] if last else words[-keep:]
    return " ".join(head) + (" " if head else "") + "\u2026" + (" " if tail else "") + " ".join(tail)


def _render(ops: list[Op], fmt_equal, fmt_delete, fmt_insert) -> str:
    parts = []
    n = len(ops)
    for i, (tag, text) in enumerate(ops):
        if tag == "equal":
            parts.append(fmt_equal(_elide(text, first=i == 0, last=i == n - 1)))
        elif tag == "delete":
            parts.append(fmt_delete(text))
        else:
            parts.append(fmt_insert(text))
    out = ""
    for part in parts:
        if out and not out.endswith((" ", "\n")) and not part.startswith((" ", "\n")):
            out += " "
        out += part
    return out


def render_terminal(ops: list[Op], color: bool = False) -> str:
    """[-deleted-]{+inserted+}, or ANSI red/green when color is true; long equal runs elided."""
    if color:
        return _render(ops, lambda t: t, lambda t: f"\x1b[31m{t}\x1b[0m", lambda t: f"\x1b[32m{t}\x1b[0m")
    return _render(ops, lambda t: t, lambda t: f"[-{t}-]", lambda t: f"{{+{t}+}}")


def render_html(ops: list[Op]) -> str:
    """<del>/<ins> markup with every text HTML-escaped; long equal runs elided."""
    esc = html.escape
    return _render(ops, esc, lambda t: f"<del>{esc(t)}</del>", lambda t: f"<ins>{esc(t)}</ins>")


_SENTENCE_END = re.compile(r"[.!?:;\u2026\"'\u201d)\]]$")


def reflow(text: str) -> str:
    """Text laid out in printed lines (a PDF's) as paragraphs: a line that does not end a sentence
    runs on into the next, so a diff breaks where the text does, not where the page did."""
    out: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if out and out[-1] and stripped and not _SENTENCE_END.search(out[-1]):
            out[-1] = out[-1].rstrip() + " " + stripped
        else:
            out.append(stripped)
    return "\n".join(out)
