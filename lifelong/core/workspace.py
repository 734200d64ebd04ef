"""A workspace: a directory with lifelong.toml, the SQLite database and model artefacts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .config import Config, load_config, save_config
from ..errors import ConfigError

CONFIG_FILE = "lifelong.toml"
DATABASE_FILE = "lifelong.db"


def default_workspace() -> Path:
    """``$LIFELONG_WORKSPACE``, else ``$XDG_DATA_HOME/lifelong`` (``~/.local/share/lifelong``)."""
    value = os.environ.get("LIFELONG_WORKSPACE")
    if value is not None:
        if not value.strip():
            raise ConfigError("LIFELONG_WORKSPACE is set but empty; give it a directory or unset it")
        return Path(value)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "lifelong"


@dataclass
class Workspace:
    path: Path

    @classmethod
    def resolve(cls, path: Path | str | None = None, create: bool = True) -> "Workspace":
        ws = cls(Path(path).expanduser().resolve() if path else default_workspace().expanduser().resolve())
        if ws.path.exists() and not ws.path.is_dir():
            raise ConfigError(f"workspace {ws.path} is a file; choose a directory with --workspace")
        if create:
            try:
                ws.path.mkdir(parents=True, exist_ok=True)
                (ws.path / "adapters").mkdir(exist_ok=True)
                (ws.path / "index").mkdir(exist_ok=True)
                if not ws.config_path.exists():
                    save_config(Config(), ws.config_path)
            except OSError as exc:
                raise ConfigError(
                    f"cannot use {ws.path} as the workspace: {exc.strerror or exc}; choose a writable "
                    "directory with --workspace or LIFELONG_WORKSPACE"
                ) from None
        return ws

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def db_path(self) -> Path:
        return self.path / DATABASE_FILE

    @property
    def adapters_dir(self) -> Path:
        return self.path / "adapters"

    @property
    def index_dir(self) -> Path:
        return self.path / "index"

    def load_config(self) -> Config:
        return load_config(self.config_path)

    def save_config(self, config: Config) -> None:
        save_config(config, self.config_path)
