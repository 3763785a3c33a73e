"""The `plexus` command. Thin on purpose: each command loads the config and calls
plexus.migrations, ops.runner or the gateway's API key functions.

Failures are one line on stderr starting `plexus:` and exit 1; usage errors exit 2
(click's own)."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import logging.config
import os
from pathlib import Path

import click
import yaml
from sqlalchemy.engine import make_url

from plexus import logs
from plexus.config import (
    PROJECT_ROOT,
    broker_uri,
    config_path,
    data_dir,
    database_url,
    load_config,
)
from plexus.errors import PlexusError
from plexus.suite import SERVICES

log = logging.getLogger("ops.cli")


class Failure(click.ClickException):
    """A failure the user can act on: printed as one line, exit code 1."""

    def show(self, file=None) -> None:  # noqa: ARG002 click.ClickException.show's signature
        click.echo(f"plexus: {self.message}", err=True)


class Settings:
    """The config file chosen on the command line, loaded once on first use."""

    def __init__(self, config_file: Path):
        self.config_file = config_file.resolve()
        self._config: dict | None = None

    @property
    def config(self) -> dict:
        if self._config is None:
            try:
                self._config = load_config(self.config_file) or {}
            except (OSError, yaml.YAMLError) as error:
                raise Failure(f"cannot read the config {self.config_file}: {error}") from None
            _setup_logging(self._config)
        return self._config


def _setup_logging(config: dict) -> None:
    try:
        if "LOGGING" in config:
            logging.config.dictConfig(config["LOGGING"])
        else:
            logs.configure()
    except (ValueError, TypeError, AttributeError, ImportError) as error:
        raise Failure(
            f"the LOGGING section of the config does not work: {error} "
            "(PLEXUS_LOG_LEVEL: DEBUG, INFO, WARNING, ERROR; "
            "PLEXUS_LOG_FORMAT: json, text, auto)"
        ) from None


def _one_line(error: BaseException) -> str:
    if isinstance(error, PlexusError):
        fields = "; ".join(
            f"{field}: {', '.join(map(str, messages))}" for field, messages in error.errors.items()
        )
        return f"{error.detail} ({fields})" if fields else error.detail
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _where(config: dict, service: str) -> str:
    url, schema = database_url(config, service)
    shown = make_url(url).render_as_string(hide_password=True)
    return f"{shown}, schema {schema}" if schema else shown


def _migrate(config: dict, services) -> None:
    from plexus.migrations import migrate_all  # imports alembic: only when needed

    for service in services:
        try:
            done = migrate_all(config, [service])
        except Exception as error:
            log.debug("migrating %s failed", service, exc_info=True)
            raise Failure(f"migrating {service} failed: {_one_line(error)}") from None
        state = "at the newest schema" if done else "skipped (no migrations yet)"
        click.echo(f"{service}: {state} ({_where(config, service)})")


def _declare_queues(config: dict, required: bool) -> None:
    from plexus.consumer import declare_topology

    try:
        queues = declare_topology(broker_uri(config))
    except Exception as error:
        if required:
            raise Failure(f"declaring the event queues failed: {_one_line(error)}") from None
        click.echo(
            f"event queues: not declared ({_one_line(error)}); each service "
            "declares its own when it starts",
            err=True,
        )
        return
    if queues:
        click.echo(f"event queues: {len(queues)} declared")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_file",
    envvar="PLEXUS_CONFIG",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=lambda: config_path(),
    show_default="config.yaml of the project",
    help="The YAML config (env: PLEXUS_CONFIG). Every value in it can also be "
    "set by its ${VAR} in the environment.",
)
@click.version_option(package_name="plexus")
@click.pass_context
def cli(ctx: click.Context, config_file: Path) -> None:
    """Plexus: contact profiles and messaging as nameko services.

    \b
    Start everything:   plexus run
    Database schemas:   plexus migrate
    API keys:           plexus apikey create --name ci --scope contacts:read
    A contact's feed:   plexus export activity CONTACT_ID --format csv
    """
    ctx.obj = Settings(config_file)


@cli.command()
@click.argument("services", nargs=-1, type=click.Choice(list(SERVICES)))
@click.pass_obj
def migrate(settings: Settings, services: tuple[str, ...]) -> None:
    """Bring each service's database to its newest schema.

    With no SERVICES, every service of the suite. Safe to repeat: a database already
    at the newest schema is left as it is. Prints one line per service with where its
    data lives (SQLite under var/ unless PLEXUS_DATABASE_URL or a per-service URL says
    otherwise).
    """
    _migrate(settings.config, services or SERVICES)
    _declare_queues(settings.config, required=False)


@cli.group()
def migrations() -> None:
    """Write and check schema migrations (for developers of Plexus)."""


def _models(service: str):
    """The service's models module: its `Base.metadata`, and `RETIRED_TABLES` if any."""
    package = SERVICES[service].split(".")[1]
    return importlib.import_module(f"services.{package}.models")


def _with_migrations(services: tuple[str, ...]) -> list[str]:
    from plexus.migrations import with_migrations

    kept = with_migrations()
    for service in services:
        if service not in kept:
            raise Failure(f"{service} keeps no schema of its own")
    return list(services) or kept


@migrations.command("new")
@click.argument("service", type=click.Choice(list(SERVICES)))
@click.argument("message")
def migrations_new(service: str, message: str) -> None:
    """Write the next revision of SERVICE's schema, autogenerated from its models.

    Compares the models with a scratch database at the newest revision and writes what
    differs; read the file and finish it (data moves, server defaults) before committing.
    """
    from plexus.migrations import new_revision

    _with_migrations((service,))
    click.echo(str(new_revision(service, message)))


@migrations.command("check")
@click.argument("services", nargs=-1, type=click.Choice(list(SERVICES)))
def migrations_check(services: tuple[str, ...]) -> None:
    """Fail when a service's models and its migrations disagree (all with none given)."""
    from plexus.migrations import differences, scratch_at_head

    apart = False
    for service in _with_migrations(services):
        with scratch_at_head(service) as (_cfg, connection):
            models = _models(service)
            found = differences(
                connection, models.Base.metadata, getattr(models, "RETIRED_TABLES", ())
            )
        apart = apart or bool(found)
        click.echo(f"{service}: " + ("agree" if not found else f"{len(found)} differences"))
        for difference in found:
            click.echo(f"  {difference}")
    if apart:
        raise Failure("models and migrations differ: `plexus migrations new SERVICE MESSAGE`")


def _scale(_ctx, _param, values: tuple[str, ...]) -> dict[str, int]:
    """--scale SERVICE=N, repeatable: how many processes of a service to start."""
    counts: dict[str, int] = {}
    for value in values:
        name, _, count = value.partition("=")
        if (
            name not in SERVICES
            or name == "gateway"
            or not count.isdigit()
            or not 1 <= int(count) <= 16
        ):
            raise click.BadParameter(
                f"{value!r}: give SERVICE=N, N from 1 to 16, SERVICE one of "
                f"{', '.join(n for n in SERVICES if n != 'gateway')}"
            )
        counts[name] = int(count)
    return counts


@cli.command()
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(list(SERVICES)),
    help="Start just this service (repeatable). Default: all of them.",
)
@click.option(
    "--scale",
    multiple=True,
    callback=_scale,
    metavar="SERVICE=N",
    help="Run N processes of a service side by side on its queues (repeatable), "
    "as replicas would in production; the extra ones serve no /metrics.",
)
@click.pass_obj
def run(settings: Settings, only: tuple[str, ...], scale: dict[str, int]) -> None:
    """Run the whole suite in the foreground.

    Checks that RabbitMQ answers, migrates, then starts every service as its own
    `nameko run` process, and prints "Plexus is up" once the gateway answers /health.
    Refuses to start (exit code 1) when another `plexus run` uses the same data directory
    (it holds DATA_DIR/plexus-run.lock) or something listens on the gateway's port.

    Ctrl-C or SIGTERM stops them all (each gets 10 s, then is killed). If one dies on its
    own, the rest are stopped and the exit code is 1. Logs go to stderr, one JSON object
    a line unless stderr is a terminal (PLEXUS_LOG_FORMAT, PLEXUS_LOG_LEVEL).
    """
    from ops import runner

    config = settings.config
    problem = runner.check_broker(broker_uri(config), timeout=3.0)
    if problem:
        raise Failure(problem)
    names = [name for name in SERVICES if not only or name in only]
    # One suite per data directory, and a gateway port nobody else listens on: a second
    # suite would share the SQLite files, the queues and (SO_REUSEPORT) even the port.
    try:
        with runner.DataDirLock(data_dir(config)):
            if "gateway" in names:
                runner.check_port_free(str(config.get("WEB_SERVER_ADDRESS") or "127.0.0.1:8000"))
            _start(settings, config, names, scale)
    except runner.AlreadyRunning as error:
        raise Failure(str(error)) from None


def _start(
    settings: Settings, config: dict, names: list[str], scale: dict[str, int] | None = None
) -> None:
    """Migrate, declare the queues, start the children and wait (exits with their code)."""
    from ops import runner

    _migrate(config, names)
    _declare_queues(config, required=True)

    children = runner.replicas(names, scale or {})
    supervisor = runner.Supervisor(
        {
            child: runner.nameko_command(settings.config_file, SERVICES[name])
            for child, name in children.items()
        },
        environments={
            child: runner.child_environment(name, settings.config_file, replica=child != name)
            for child, name in children.items()
        },
        cwd=PROJECT_ROOT,
        say=lambda line: click.echo(line, err=True),
    )

    def announce() -> None:
        if "gateway" not in names:
            click.echo(f"plexus: started {', '.join(names)}", err=True)
            return
        base = runner.gateway_url(config)
        if runner.wait_until_healthy(f"{base}/health", supervisor, timeout=30.0):
            click.echo(f"Plexus is up: {base} (the web page: /, API docs: /docs)")
        elif supervisor.exited() is None:
            click.echo(
                f"plexus: the gateway has not answered {base}/health in 30 s; "
                "still running (Ctrl-C stops)",
                err=True,
            )

    raise SystemExit(runner.run_foreground(supervisor, on_started=announce))


@cli.group()
def apikey() -> None:
    """Create, list and revoke the API keys the HTTP gateway accepts.

    Keys are stored hashed in the gateway's database; a new key is printed once.
    Scopes are those of the API (contacts:read, contacts:write, ...; admin implies all).
    """


def _apikeys():
    """The gateway's key functions, imported on use so the rest of the CLI works
    without the gateway installed."""
    module = "services.gateway.logic.apikeys"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if not error.name or not module.startswith(error.name):
            raise  # a missing dependency of that module: a real bug, keep the traceback
        raise Failure(f"the gateway's key store ({module}) is not installed") from None


@contextlib.contextmanager
def _gateway_session(settings: Settings):
    from sqlalchemy.orm import sessionmaker

    from plexus.db import service_engine, transaction

    config = settings.config
    _ensure_gateway_schema(config)
    engine = service_engine(config, "gateway")
    try:
        with transaction(sessionmaker(engine, expire_on_commit=False)) as session:
            yield session
    except PlexusError as error:
        raise Failure(_one_line(error)) from None
    finally:
        engine.dispose()


def _ensure_gateway_schema(config: dict) -> None:
    # Keys can be made before the first `plexus run`; migrating is a no-op when current.
    from plexus.migrations import migrate_all

    try:
        migrate_all(config, ["gateway"])
    except Exception as error:
        log.debug("migrating gateway failed", exc_info=True)
        raise Failure(
            f"the gateway's database is not usable ({_where(config, 'gateway')}): "
            f"{_one_line(error)}"
        ) from None


def _key_line(record: dict) -> str:
    scopes = ", ".join(record.get("scopes") or [])
    return f"{record.get('name')} (id {record.get('id')}, scopes: {scopes})"


@apikey.command("create")
@click.option("--name", required=True, help="A unique name; it appears in the audit trail.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="A scope the key grants (repeatable), e.g. contacts:read.",
)
@click.pass_obj
def apikey_create(settings: Settings, name: str, scopes: tuple[str, ...]) -> None:
    """Create a key and print it, once.

    The key is alone on stdout (the rest goes to stderr), so that
    KEY=$(plexus apikey create --name ci --scope admin) captures it.
    """
    store = _apikeys()
    with _gateway_session(settings) as session:
        record, secret = store.create_key(session, name, list(scopes))
    click.echo(f"Created API key {_key_line(record)}.", err=True)
    click.echo(secret)
    click.echo("This key is shown only once: store it now. Plexus keeps only its hash.", err=True)


@apikey.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@click.pass_obj
def apikey_list(settings: Settings, as_json: bool) -> None:
    """List every key (revoked ones too), oldest first. Secrets are never shown."""
    store = _apikeys()
    with _gateway_session(settings) as session:
        records = store.list_keys(session)
    if as_json:
        click.echo(json.dumps(records, indent=2))
    elif not records:
        click.echo("No API keys yet: plexus apikey create --name NAME --scope SCOPE", err=True)
    else:
        click.echo(_table(records))


def _table(records: list[dict]) -> str:
    columns = list(records[0])
    rows = [[_cell(record.get(column)) for column in columns] for record in records]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    lines = [columns, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


@apikey.command("revoke")
@click.argument("id_or_name")
@click.pass_obj
def apikey_revoke(settings: Settings, id_or_name: str) -> None:
    """Revoke a key by its id or name. Requests with it get 401 from then on."""
    store = _apikeys()
    with _gateway_session(settings) as session:
        record = store.revoke_key(session, id_or_name)
    click.echo(f"Revoked API key {_key_line(record)} at {record.get('revoked_at')}.")


@cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    envvar="PLEXUS_API_KEY",
    required=True,
    help="An API key with contacts:write (env: PLEXUS_API_KEY).",
)
@click.option(
    "--url",
    envvar="PLEXUS_URL",
    default=None,
    help="The gateway (env: PLEXUS_URL; default: the one config.yaml describes).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read COLUMN into FIELD (repeatable). FIELD is a contact field, "
    "address.<part>, variables.<name> or categories.<name>. Columns named "
    "like a field need no --map.",
)
@click.option("--skip", "skips", multiple=True, metavar="COLUMN", help="Ignore COLUMN.")
@click.option(
    "--batch-size",
    default=250,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Rows per POST /v1/contacts/batch. Smaller batches each finish well "
    "inside the gateway's 10 s deadline on a loaded server; a batch that "
    "times out is sent again (upsert makes that safe), then counts as updated.",
)
@click.option(
    "--parallel",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Batches in flight at once. Rejected rows are still written in file "
    "order, and rows of one contact still apply in file order.",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where rejected rows go, each with its line and reasons "
    "(default: CSV_FILE with .rejected.csv).",
)
@click.pass_obj
def import_contacts(
    settings: Settings,
    csv_file: Path,
    key: str,
    url: str | None,
    maps,
    skips,
    batch_size: int,
    parallel: int,
    rejected_path: Path | None,
) -> None:
    """Create or update contacts from a CSV file (UTF-8, header row first).

    Rows are upserted through the gateway in batches (--parallel of them at once):
    matched by user_id, else email, else phone. Rows that cannot be imported are
    written to the rejected file, in file order, with the reason per field; the others
    are imported. Exit code 0 when every row was imported, 3 when some were rejected,
    1 when the import could not run.

    \b
    Example:
      plexus import people.csv --map "E-mail=email" --map "Plan=variables.plan"
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ops import importer, runner
    from ops.gateway_client import GatewayClient, GatewayError

    overrides = {}
    for item in maps:
        column, sep, target = item.partition("=")
        if not sep or not column or not target:
            raise click.UsageError(f"--map takes COLUMN=FIELD, not {item!r}")
        overrides[column] = target
    rejected_path = rejected_path or csv_file.with_suffix(".rejected.csv")
    client = GatewayClient(url or runner.gateway_url(settings.config), key)
    console = Console(stderr=True)
    try:
        total = importer.count_rows(csv_file)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("importing", total=total)
            report = importer.import_contacts(
                csv_file,
                client,
                rejected_path,
                overrides=overrides,
                skipped=set(skips),
                batch_size=batch_size,
                parallel=parallel,
                on_progress=lambda rows: progress.advance(task, rows),
            )
    except (importer.ImportFailure, GatewayError, OSError, UnicodeDecodeError) as error:
        raise Failure(str(error)) from None
    if report.ignored_columns:
        click.echo(
            f"ignored columns (no field of that name; see --map): "
            f"{', '.join(report.ignored_columns)}",
            err=True,
        )
    click.echo(
        f"{report.rows} rows in {report.seconds:.1f} s ({report.rate:.0f} rows/s): "
        f"{report.created} created, {report.updated} updated, "
        f"{report.rejected} rejected"
    )
    if report.rejected:
        click.echo(f"rejected rows, with their reasons: {rejected_path}")
        raise SystemExit(3)
    rejected_path.unlink(missing_ok=True)


@cli.group()
def export() -> None:
    """Download what Plexus holds, through the gateway's API (an API key is needed)."""


@export.command("activity")
@click.argument("contact")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["ndjson", "csv"]),
    default="ndjson",
    show_default=True,
    help="ndjson: one JSON object a line; csv: a header row, "
    "details as one JSON text in their cell.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write into this file (default: stdout). It appears only when the download is complete.",
)
@click.option(
    "--key",
    envvar="PLEXUS_API_KEY",
    required=True,
    help="An API key with activity:read (env: PLEXUS_API_KEY).",
)
@click.option(
    "--url",
    envvar="PLEXUS_URL",
    default=None,
    help="The gateway (env: PLEXUS_URL; default: the one config.yaml describes).",
)
@click.pass_obj
def export_activity(
    settings: Settings, contact: str, format_: str, output: Path | None, key: str, url: str | None
) -> None:
    """Write CONTACT's whole activity feed, newest first, as NDJSON or CSV.

    CONTACT is the contact's id, or user_id=..., email=... or phone=... to look it up.
    The feed comes from GET /v1/contacts/{id}/activity/export and is written as it
    arrives. Exit code 0 when it was written whole, 1 otherwise.

    \b
    Examples:
      plexus export activity 01j9z8... > feed.ndjson
      plexus export activity email=olena@example.com --format csv -o olena.csv
    """
    from ops import exporting, runner
    from ops.gateway_client import GatewayClient, GatewayError

    gateway = GatewayClient(url or runner.gateway_url(settings.config), key, timeout=30.0)
    try:
        written = exporting.write(exporting.feed(gateway, contact, format_), output)
    except (exporting.ExportFailure, GatewayError, OSError) as error:
        raise Failure(str(error)) from None
    if output is not None:
        click.echo(f"{written:,} bytes of activity written to {output}", err=True)


@cli.group()
def deadletters() -> None:
    """Events a service failed to handle after every retry, kept with their error."""


@deadletters.command("list")
@click.argument("consumer")
@click.argument("source")
@click.option("--limit", default=100, show_default=True, help="Show at most this many.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object a line: the whole event, its error and attempts.",
)
@click.pass_obj
def deadletters_list(
    settings: Settings, consumer: str, source: str, limit: int, as_json: bool
) -> None:
    """Show CONSUMER's parked events from SOURCE, oldest first, each with the error its
    last attempt failed with. They stay parked (replay sends them back).

    Example: plexus deadletters list activity contacts
    """
    from plexus.consumer import dead_letter_queue, parked_events

    _check_subscription(consumer, source)
    parked = parked_events(broker_uri(settings.config), consumer, source, limit)
    for entry in parked:
        if as_json:
            click.echo(json.dumps(entry, default=str))
            continue
        payload = entry["payload"] if isinstance(entry["payload"], dict) else {}
        error = (str(entry["error"] or "no error kept").splitlines() or [""])[0]
        click.echo(
            f"{payload.get('event_id')}  {payload.get('event')}  "
            f"after {entry['attempts']} attempts: {error}"
        )
    if not as_json:
        click.echo(
            f"{len(parked)} event(s) parked on {dead_letter_queue(consumer, source).name}", err=True
        )


def _check_subscription(consumer: str, source: str) -> None:
    from plexus.contract.events import SUBSCRIPTIONS

    if source not in SUBSCRIPTIONS.get(consumer, {}):
        raise click.UsageError(f"{consumer} consumes no events from {source}")


@deadletters.command("replay")
@click.argument("consumer")
@click.argument("source")
@click.pass_obj
def deadletters_replay(settings: Settings, consumer: str, source: str) -> None:
    """Send CONSUMER's parked events from SOURCE back to its queue (after a fix).

    Example: plexus deadletters replay activity contacts
    """
    from plexus.consumer import replay_dead_letters

    _check_subscription(consumer, source)
    moved = replay_dead_letters(broker_uri(settings.config), consumer, source)
    click.echo(f"{moved} event(s) sent back to {consumer}")


@deadletters.command("replay-queue")
@click.argument("queue")
@click.pass_obj
def deadletters_replay_queue(settings: Settings, queue: str) -> None:
    """Send what QUEUE.dead holds back to QUEUE: a sender's messages after a provider
    outage, e.g. plexus deadletters replay-queue plexus.messages.email
    """
    from plexus.consumer import replay_parked

    moved = replay_parked(broker_uri(settings.config), queue)
    click.echo(f"{moved} message(s) sent back to {queue}")


@cli.group()
def webpush() -> None:
    """Web Push: the VAPID key pair that names this application to push services."""


@webpush.command("public-key")
@click.pass_obj
def webpush_public_key(settings: Settings) -> None:
    """Print the VAPID public key (base64url): the applicationServerKey a browser's
    pushManager.subscribe() takes. With no key configured, this makes the one the
    webpush sender will use and keeps it in DATA_DIR/vapid-private-key.
    """
    from services.messaging.senders.providers import vapid

    try:
        key = vapid.load(vapid.private_key(settings.config))
    except Exception as error:  # a configured key that is not one
        raise Failure(
            f"MESSAGING.providers.webpush.vapid_private_key: {_one_line(error)}"
        ) from None
    click.echo(vapid.public_key(key))


@cli.group()
def segments() -> None:
    """Rule-based segments: the segments service's projection and membership."""


@segments.command("rebuild")
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    help="Seconds each page asked of contacts and activity may take.",
)
@click.pass_obj
def segments_rebuild(settings: Settings, timeout: float) -> None:
    """Rebuild the segments projection from scratch and evaluate every segment again.

    Reads every contact from the contacts service and every day's activity counts from
    the activity service (both must run), writes them into the segments database, then
    re-evaluates each segment; only memberships that changed are announced. Stop the
    segments service first: events it handled meanwhile would be counted twice.
    """
    from services.segments.rebuilding import rebuild_segments

    try:
        summary = rebuild_segments(settings.config, timeout, say=click.echo)
    except Exception as error:  # broker, database or a service away: one line, exit 1
        raise Failure(f"segments rebuild failed: {_one_line(error)}") from None
    changed = sum(added + dropped for added, dropped in summary.segments.values())
    click.echo(
        f"rebuilt: {summary.contacts:,} contacts, {summary.counts:,} activity "
        f"counts, {len(summary.segments)} segments, {changed:,} membership changes"
    )


def main() -> None:
    # logging.config wants upper-case level names; people type "debug". Fixed here, in
    # the environment, so the `nameko run` children read the same value.
    if os.environ.get("PLEXUS_LOG_LEVEL"):
        os.environ["PLEXUS_LOG_LEVEL"] = os.environ["PLEXUS_LOG_LEVEL"].upper()
    cli(prog_name="plexus")


if __name__ == "__main__":
    main()
