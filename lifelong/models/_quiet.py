def quiet_loading() -> None:
    """transformers draws a progress bar per weight load; lifelong reports its own progress."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
