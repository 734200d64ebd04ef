"""Ingest time against file size, for one very long line: the chunker (lifelong's bounded
blocks around langchain's RecursiveCharacterTextSplitter) next to the splitter alone, the
baseline, on the bundled all-MiniLM-L6-v2 tokenizer. Prints seconds and the ratio to the
smallest size; linear work keeps the ratio near the size ratio.

Run: .venv/bin/python benchmarks/chunking.py"""

import time

from langchain_text_splitters import RecursiveCharacterTextSplitter
from transformers import AutoTokenizer

from lifelong.models.bundled import BUNDLED_EMBEDDER, bundled_path
from lifelong.plugins.retrieval.chunker import Chunker


def timed(split, text) -> float:
    started = time.perf_counter()
    split(text)
    return time.perf_counter() - started


def main():
    tokenizer = AutoTokenizer.from_pretrained(bundled_path(BUNDLED_EMBEDDER))
    for shape, unit in (("words on one line", "refund policy details "), ("one word, no spaces", "x")):
        print(f"\n{shape}")
        sizes = (25_000, 50_000, 100_000) if unit == "x" else (250_000, 500_000, 1_000_000)
        first = {}
        for size in sizes:
            text = unit * (size // len(unit))
            chunker = Chunker(tokenizer, 200, 30)
            ours = timed(chunker.split, text)
            baseline = None
            if size <= sizes[1]:  # the baseline alone grows too fast to time at the largest size
                splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(tokenizer, chunk_size=200, chunk_overlap=30)
                baseline = timed(splitter.split_text, text)
            first.setdefault("ours", ours)
            first.setdefault("baseline", baseline)
            line = f"  {size / 1000:>6.0f} KB: chunker {ours:6.2f} s (x{ours / first['ours']:.1f})"
            if baseline is not None:
                line += f"   splitter alone {baseline:6.2f} s (x{baseline / first['baseline']:.1f})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
