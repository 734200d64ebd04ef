"""What every command's --help shows besides its own text: an example, flags without a type,
no range that only guards against overflow, and text rewrapped to the terminal (a docstring's
line breaks are the source file's, not the reader's)."""

from __future__ import annotations

import re

# One example per command, as a user would type it (tests/test_cli_polish.py parses each).
EXAMPLES = {
    "init": "lifelong -w ./support init",
    "config": "lifelong config --json",
    "config get": "lifelong config get retrieval.top_k",
    "config set": "lifelong config set learning.threads 1",
    "models": "lifelong models",
    "plugins": "lifelong plugins --json",
    "ingest": "lifelong ingest examples/customer_support/docs",
    "search": 'lifelong search "refund policy" -k 3 --mode hybrid',
    "documents": "lifelong documents",
    "lineage": "lifelong lineage --user alice",
    "forget": "lifelong forget --user alice --dry-run",
    "ask": 'lifelong ask "Do you ship to Norway?" -o temperature=0.2',
    "chat": "lifelong chat",
    "feedback": 'lifelong feedback 2 --correct "The CEO is Mira Okafor."',
    "learn": "lifelong learn --watch --every 10m --min-new 20",
    "versions": "lifelong versions --task chat",
    "promote": "lifelong promote 3 --task chat",
    "rollback": "lifelong rollback --task chat",
    "report": "lifelong report --plot history.png",
    "eval": "lifelong eval test.jsonl --task intent",
    "serve": "lifelong serve --port 8000",
    "ui": "lifelong ui",
    "review": "lifelong review",
    "export": "lifelong export ws.tar.gz",
    "import": "lifelong -w elsewhere import ws.tar.gz",
    "logs": 'lifelong logs -n 20 -q "refund"',
    "logs show": "lifelong logs show 2",
    "logs path": "lifelong logs path",
    "examples": "lifelong examples --task chat",
    "examples list": "lifelong examples list --task chat -n 10",
    "examples import": "lifelong examples import train.jsonl --task intent",
    "tasks": "lifelong tasks",
    "tasks add": "lifelong tasks add intent --plugin classify -o threshold=0.4",
    "memory": "lifelong memory migrate --to postgresql://lifelong@db/lifelong",
    "memory migrate": "lifelong memory migrate --to postgresql://lifelong@db/lifelong",
}
# Bounds set only so that a huge number is one line of error rather than an overflow: not worth
# showing as a range.
OVERFLOW_GUARD = 2**31


def tidy(command, path: str = "") -> None:
    """Apply the above to ``command`` (a click command or group) and everything under it."""
    command.help = _unwrapped(command.help)
    if path in EXAMPLES:
        command.epilog = f"Example: {EXAMPLES[path]}"
    own_params = command.get_params

    def get_params(ctx):  # --help and the completion options are made here, not declared
        params = own_params(ctx)
        for param in params:
            _tidy_param(param)
        return params

    command.get_params = get_params
    for name, sub in (getattr(command, "commands", None) or {}).items():
        tidy(sub, f"{path} {name}".strip())


def _tidy_param(param) -> None:
    param.help = _unwrapped(getattr(param, "help", None))
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        param.metavar = ""  # a flag takes no value: no "<bool>"
    maximum = getattr(param, "max", None)
    if maximum is not None and maximum >= OVERFLOW_GUARD:
        param.metavar = "<int>"
        low = getattr(param, "min", None)
        # What typer shows as the range: only the bound that means something to a user.
        param._get_number_range_help_str = lambda: None if low is None or low <= 0 else f"x>={low}"


def _unwrapped(text: str | None) -> str | None:
    """Lines joined within each paragraph; paragraphs (blank lines) kept."""
    if not text:
        return text
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)
