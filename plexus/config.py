"""Loading config.yaml (with `${VAR:default}` substitution) and reading the keys every
service shares. nameko's own loader does the substitution, so `nameko run --config`
and `plexus` read the file the same way."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from nameko.cli.utils.config import load_config as _nameko_load_config
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config.yaml"


def config_path() -> Path:
    return Path(os.environ.get("PLEXUS_CONFIG", DEFAULT_CONFIG_FILE))


def load_config(path: Path | str | None = None) -> dict:
    with open(path or config_path()) as handle:
        return _nameko_load_config(handle)


def broker_uri(config: dict) -> str:
    """The broker every process talks to (config.yaml's AMQP_URI, else nameko's default,
    the local broker as guest)."""
    return str(config.get(AMQP_URI_CONFIG_KEY) or DEFAULT_AMQP_URI)


def data_dir(config: dict) -> Path:
    directory = Path(config.get("DATA_DIR") or "var")
    if not directory.is_absolute():
        directory = PROJECT_ROOT / directory
    return directory


def kept_secret(config: dict, name: str, make: Callable[[], str]) -> str:
    """The secret in DATA_DIR/<name>, made with `make()` on first use, so `make run`
    works with no setup and every process of one machine agrees."""
    path = Path(data_dir(config)) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        draft.write_text(make())
        draft.chmod(0o600)
        # link() fails if another process made it first: then every process reads theirs.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


def database_url(config: dict, service: str) -> tuple[str, str | None]:
    """The URL a service's database lives at, and the PostgreSQL schema it owns (if any).

    A per-service URL wins; else the shared DATABASE_URL with one schema per service;
    else a SQLite file of its own under DATA_DIR.
    """
    own = (config.get("DATABASE_URLS") or {}).get(service)
    if own:
        return own, None
    shared = config.get("DATABASE_URL")
    if shared:
        return shared, (service if shared.startswith("postgresql") else None)
    return f"sqlite:///{data_dir(config) / f'{service}.db'}", None


def metrics_port(config: dict, service: str) -> int:
    return int((config.get("METRICS_PORTS") or {}).get(service) or 0)
