"""Errors a user can cause. The CLI shows them as one line; LIFELONG_RAISE_ERRORS=1 re-raises."""


class LifelongError(Exception):
    """Base class: a problem with input, configuration or a plugin that the user can fix."""


class ConfigError(LifelongError):
    """lifelong.toml (or a value passed in code) is invalid."""


class PluginError(LifelongError):
    """A plugin failed to import, or registered something badly."""


class NotFoundError(LifelongError):
    """An id or name the user gave does not exist."""


class InputError(LifelongError):
    """Text, a file or rows given to lifelong cannot be used."""


class StorageError(LifelongError):
    """A workspace file (the database, an index, an adapter) cannot be read or written."""


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached now; the same call may succeed once it is back."""


class LearningCancelled(LifelongError):
    """Raised inside a learning run whose job was cancelled; the run is recorded as cancelled."""
