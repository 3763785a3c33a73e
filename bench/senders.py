"""Sends a second through one and through two email sender processes, against an SMTP
server that takes a fixed 50 ms to accept each message (tests/fake_providers.py).

    .venv/bin/python -m bench.senders --messages 1000

For each run: a fresh vhost and data dir; N queued emails are written through the
messaging logic (as `send` stores them), the messaging service publishes them from its
delivery outbox to the email queue, and once all N wait there, K sender processes
start. The rate is taken between the first and the last email the SMTP server
received, so process start-up is not counted. As in production, every send claims its
message from messaging first (which asks contacts for the contact's consent at that
moment: the contacts service runs too, holding the N contacts) and reports `sent` after,
both by RPC.

`--rate-limit R` sets the email sender's `rate_limit` (sends a second for the sender,
shared by its processes through messaging's database): a rate above what the machine
does measures what the shared bucket costs a send that never waits; a lower one, what a
send that waits costs (a second claim) and whether the processes together keep to R.
`--processes 2` runs two processes only."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kombu import Connection

from bench.harness import (
    arguments,
    broker_pid,
    free_port,
    machine,
    process_cpu_seconds,
    report,
    temporary_vhost,
)
from plexus.config import PROJECT_ROOT, load_config
from plexus.db import make_engine, transaction
from plexus.migrations import migrate_service
from services.contacts import settings as contacts_settings
from services.contacts.logic.batch import batch_upsert
from services.messaging import queues
from services.messaging.logic.messages import queue_message

CONTENT = {
    "subject": "Bench",
    "text": "Hello",
    "html": "<p>Hello <a href='https://x.example/'>x</a></p>",
}


def wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def nameko(service_class: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(PROJECT_ROOT / "config.yaml"),
            service_class,
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def unit_of_work(env: dict, service: str, info: dict | None = None):
    """`info`: what the service's sessions carry (contacts: its suppression secret)."""
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(f"sqlite:///{Path(env['PLEXUS_DATA_DIR']) / f'{service}.db'}")
    sessions = sessionmaker(engine, expire_on_commit=False, info=info)
    return engine, functools.partial(transaction, sessions)


def queue_emails(env: dict, count: int) -> None:
    """N subscribed contacts in contacts' database, one queued email each in messaging's."""
    os.environ.update(env)
    config = load_config()
    ids = []
    migrate_service(config, "contacts")
    engine, unit = unit_of_work(env, "contacts", contacts_settings.session_info(config))
    for start in range(0, count, 1000):
        with unit() as session:
            done = batch_upsert(
                session,
                [{"email": f"c{n}@bench.example"} for n in range(start, min(count, start + 1000))],
                "bench",
            )
        ids += [item["id"] for item in done["results"]]
    engine.dispose()
    migrate_service(config, "messaging")
    engine, unit = unit_of_work(env, "messaging")
    with unit() as session:
        for contact_id in ids:
            queue_message(
                session,
                contact_id=contact_id,
                channel="email",
                origin="campaign",
                category=None,
                template_id=None,
                resend_of=None,
                content=CONTENT,
                actor="bench",
            )
    engine.dispose()


def run(processes: int, count: int, latency: float, rate_limit: float = 0.0) -> dict:
    started: list[subprocess.Popen] = []
    with temporary_vhost() as amqp, tempfile.TemporaryDirectory() as scratch:
        data, fakes, smtp_port = Path(scratch) / "data", Path(scratch) / "fakes", free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXUS_")}
        env.update(
            {
                "PLEXUS_AMQP_URI": amqp,
                "PLEXUS_DATA_DIR": str(data),
                "PLEXUS_EMAIL_PROVIDER": "smtp",
                "PLEXUS_SMTP_PORT": str(smtp_port),
                "PLEXUS_SMTP_RATE_LIMIT": str(rate_limit),
                "PLEXUS_LOG_LEVEL": "WARNING",
                "EVENTLET_TESTS": "1",
                **{
                    f"PLEXUS_{name}_METRICS_PORT": "0"
                    for name in ("CONTACTS", "MESSAGING", "SENDER_EMAIL")
                },
            }
        )
        try:
            started.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.fake_providers",
                        "--dir",
                        str(fakes),
                        "--smtp-port",
                        str(smtp_port),
                        "--smtp-latency",
                        str(latency),
                    ],
                    cwd=PROJECT_ROOT,
                    start_new_session=True,
                )
            )
            wait(lambda: (fakes / "ready").exists(), 20, "the SMTP server")
            queue_emails(env, count)
            contacts = nameko("services.contacts.entrypoints:ContactsService", env)
            messaging = nameko("services.messaging.entrypoints:MessagingService", env)
            started += [contacts, messaging]

            def queued() -> int:
                with Connection(amqp) as connection:
                    queue = queues.sender_queue("email")(connection.channel())
                    return queue.queue_declare(passive=True).message_count

            wait(lambda: _safe(queued) >= count, 120, "the queue to fill")
            senders = [
                nameko("services.messaging.senders.email:EmailSender", env)
                for _ in range(processes)
            ]
            started += senders
            watched = {
                "senders": [p.pid for p in senders],
                "messaging": [messaging.pid],
                "contacts": [contacts.pid],
                "rabbitmq": [broker_pid() or 0],
            }
            before = {name: sum(map(process_cpu_seconds, pids)) for name, pids in watched.items()}
            received = fakes / "smtp"
            wait(lambda: len(list(received.glob("*.eml"))) >= count, 600, "every email")
            cpu = {
                name: sum(map(process_cpu_seconds, pids)) - before[name]
                for name, pids in watched.items()
            }
            times = sorted(path.stat().st_mtime for path in received.glob("*.eml"))
        finally:
            for process in reversed(started):
                stop(process)
    seconds = times[-1] - times[0]
    return {
        "sender_processes": processes,
        "messages": count,
        "smtp_latency_s": latency,
        "rate_limit": rate_limit,
        "seconds": round(seconds, 2),
        "sends_per_second": round((count - 1) / seconds, 1),
        # CPU ms a send, by process (sender start-up included in `senders`).
        "cpu_ms_per_send": {name: round(1000 * used / count, 2) for name, used in cpu.items()},
    }


def _safe(probe) -> int:
    try:
        return probe()
    except Exception:  # the queue does not exist until the relay declared it
        return 0


def table(runs: list[dict]) -> str:
    one = runs[0]
    limit = f", rate_limit {one['rate_limit']:g}/s" if one["rate_limit"] else ""
    lines = [
        f"Email senders, {one['messages']:,} emails, SMTP server taking "
        f"{one['smtp_latency_s'] * 1000:.0f} ms a message{limit} ({machine()})",
        "",
        "| sender processes | seconds | sends/s |",
        "|---|---|---|",
    ]
    lines += [
        f"| {r['sender_processes']} | {r['seconds']:.1f} | {r['sends_per_second']:.1f} |"
        for r in runs
    ]
    names = list(one["cpu_ms_per_send"])
    lines += [
        "",
        "CPU ms per send, by process (/proc; the senders' start-up included):",
        "",
        "| sender processes | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    lines += [
        f"| {r['sender_processes']} | "
        + " | ".join(f"{r['cpu_ms_per_send'][n]:.2f}" for n in names)
        + " |"
        for r in runs
    ]
    by_processes = {r["sender_processes"]: r["sends_per_second"] for r in runs}
    if {1, 2} <= by_processes.keys():
        added = (by_processes[2] - by_processes[1]) / by_processes[1]
        lines += [
            "",
            f"The second process adds {added:.2f}x of one process's rate. "
            "Target (issue 8): at least 0.8x.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="sends a second")
    parser.add_argument("--processes", default="1,2", help="sender processes of each run")
    args = parser.parse_args()
    runs = [
        run(int(processes), args.messages, args.latency, args.rate_limit)
        for processes in args.processes.split(",")
    ]
    report(
        "Senders",
        table(runs),
        to_results=args.record,
        as_json={"runs": runs} if args.json else None,
    )


if __name__ == "__main__":
    main()
