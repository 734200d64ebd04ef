"""Text extraction for each supported file type. A reader raises UnreadableFile with the reason
(shown to the user next to the file's name)."""

from __future__ import annotations

import csv
import io
import json
import logging
from html.parser import HTMLParser
from pathlib import Path

SUPPORTED = (".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".csv", ".pdf")


class UnreadableFile(Exception):
    pass


def decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not valid UTF-8 (byte {exc.start}); convert it to UTF-8") from None


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "head", "noscript", "template"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre"}

    def __init__(self):
        super().__init__()
        self.parts, self._skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _TextExtractor()
    parser.feed(markup)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _json_texts(text: str, field: str, jsonl: bool) -> str:
    try:
        items = [json.loads(line) for line in text.splitlines() if line.strip()] if jsonl else json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise UnreadableFile(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise UnreadableFile("JSON nested too deeply to read") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise UnreadableFile("JSON must be an object or a list of objects")
    try:
        texts = [str(item[field]) for item in items if isinstance(item, dict) and item.get(field)]
    except ValueError as exc:  # str() of an integer of more digits than Python converts
        raise UnreadableFile(f"a {field!r} value cannot be read as text: {exc}") from None
    if items and not texts:
        raise UnreadableFile(f"no object has the text field {field!r}; set retrieval.json_text_field")
    return "\n\n".join(texts)


def _csv_texts(text: str, column: str) -> str:
    reader = csv.DictReader(io.StringIO(text))
    try:
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise UnreadableFile(f"no column {column!r} (columns: {reader.fieldnames}); set retrieval.csv_column")
        return "\n\n".join(row[column] for row in reader if row.get(column))
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (128 KB)
        raise UnreadableFile(f"CSV does not parse: {exc}") from None


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    # pypdf logs a warning per flaw it recovers from; the file's one skip line says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # pypdf fails on hostile files in many ways; each is this one file's fault
        raise UnreadableFile(f"PDF does not parse: {type(exc).__name__}: {exc}") from None


def read_text(path: Path, data: bytes, json_field: str, csv_column: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(data)
    text = decode(data)
    if suffix in (".html", ".htm"):
        return html_text(text)
    if suffix in (".json", ".jsonl"):
        return _json_texts(text, json_field, suffix == ".jsonl")
    if suffix == ".csv":
        return _csv_texts(text, csv_column)
    return text
