"""Silence the libraries under lifelong (transformers, peft, torch, sentence-transformers,
huggingface_hub): their warnings, log lines and tqdm bars. The CLI calls ``quiet_libraries()``
unless it runs with ``--verbose`` or ``LIFELONG_VERBOSE=1``; a program embedding ``Agent`` keeps
the libraries' own behaviour unless it calls it too. lifelong's own warnings (a damaged adapter,
what was done about it) go through the ``lifelong`` logger and stay."""

from __future__ import annotations

import logging
import os
import sys
import warnings

LIBRARIES = ("transformers", "peft", "torch", "sentence_transformers", "huggingface_hub", "accelerate", "faiss",
             "tokenizers", "urllib3", "bitsandbytes")


def quiet_libraries() -> None:
    # Read by the libraries when they are imported (none is, yet, on the CLI's path); a value
    # the user set stays.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' tqdm bars follow it too
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # else a warning after each fork
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    # And any other library's logger (kernels, pulled in by bitsandbytes, says "Skipping publisher
    # trust check" through Python's last-resort handler): only errors pass the root; lifelong's
    # own warnings keep their level.
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("lifelong").setLevel(logging.WARNING)
    if "transformers" in sys.modules:  # imported already: the variables above came too late
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    # The libraries' UserWarning / FutureWarning / DeprecationWarning are for their callers (us),
    # not for the person at the terminal.
    warnings.simplefilter("ignore")
