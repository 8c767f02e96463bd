"""The package holds no word that names the flagship topic's drug, condition or outcome scale.

Everything topic-specific lives in the topic file (or the curated files it names). The scan reads every
module's syntax tree: string constants that are not docstrings, f-string parts, and identifiers (names,
attributes, arguments, functions, classes). Comments and docstrings may use the flagship as an example.
The forbidden words come from the flagship topic file itself, so the test follows it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from evidence_review import paths
from evidence_review.review.topic import load_topic

PACKAGE = Path(__file__).resolve().parents[1] / "evidence_review"


def flagship_words() -> set[str]:
    """Drug, condition and scale words of the flagship topic (lower case, alphanumeric pieces)."""
    t = load_topic(paths.evidence_dir() / "topics" / "ketamine_ocd.toml")
    phrases = [*t.inclusion.intervention_terms, *t.inclusion.condition_terms, t.condition.code,
               t.condition.label, t.intervention_label, *t.indirect_forms, t.outcome.measure, *t.outcome.scales]
    words = {w for p in phrases for w in re.findall(r"[a-z0-9]+", p.lower()) if len(w) > 2}
    words |= {re.sub(r"[^a-z0-9]", "", p.lower()) for p in phrases if re.search(r"[^a-z0-9]", p.lower())}  # 'ybocs'
    words = {w for w in words if len(w) > 2}
    generic = {"disorder", "vas"}  # shared with every topic ('vas' = any visual analogue scale)
    return words - generic


def _pieces(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def scan(source: str, words: set[str]) -> list[tuple[int, str]]:
    """(line, text) of every string constant or identifier holding a forbidden word."""
    tree = ast.parse(source)
    docs = _docstring_nodes(tree)
    hits = []
    for node in ast.walk(tree):
        texts: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            texts.append(node.value)
        elif isinstance(node, ast.Name):
            texts.append(node.id)
        elif isinstance(node, ast.Attribute):
            texts.append(node.attr)
        elif isinstance(node, ast.arg):
            texts.append(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            texts.append(node.name)
        elif isinstance(node, ast.keyword) and node.arg:
            texts.append(node.arg)
        for text in texts:
            found = {p for p in _pieces(text) if p in words or any(w in p for w in words if len(w) > 5)}
            if found:
                hits.append((getattr(node, "lineno", 0), f"{sorted(found)} in {text[:80]!r}"))
    return hits


def test_the_scan_finds_topic_words_in_code_but_not_in_docs() -> None:
    words = {"zorvane", "glimmer"}
    src = '"""A zorvane docstring."""\n# zorvane comment\nX = "zorvane_rate"\ndef glimmer_rule(zorvane): return f"{zorvane} x"\n'
    hits = scan(src, words)
    assert len(hits) == 4, hits  # the constant, the function name, the argument, the name inside the f-string
    assert all(line > 2 for line, _ in hits)


def test_package_code_names_no_flagship_drug_condition_or_scale() -> None:
    words = flagship_words()
    assert {"ketamine", "ocd", "bocs", "ybocs"} <= words
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, what in scan(path.read_text(encoding="utf-8"), words):
            problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert not problems, "topic words in package code:\n" + "\n".join(problems)
