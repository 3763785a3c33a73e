"""Files holding contacts' data are readable by their owner alone, under the usual
umask (022) that makes files world-readable: the SQLite databases (with their -wal and
-shm files), the outbox provider's messages, and the directories made for them."""

import os
import stat

import pytest
from sqlalchemy import text

from ops.runner import DataDirLock
from plexus.db import make_engine
from services.messaging.senders.providers.outbox import OutboxProvider


@pytest.fixture(autouse=True)
def usual_umask():
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_service_database_and_its_data_directory_are_owner_only(tmp_path):
    database = tmp_path / "var" / "data" / "contacts.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:  # WAL: the -wal and -shm files exist while open
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        files = {path.name: mode(path) for path in database.parent.iterdir()}
    engine.dispose()
    assert files == {"contacts.db": 0o600, "contacts.db-wal": 0o600, "contacts.db-shm": 0o600}
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / "data") == 0o700


def test_an_existing_directory_keeps_the_permissions_its_operator_gave_it(tmp_path):
    (tmp_path / "shared").mkdir(mode=0o750)
    os.chmod(tmp_path / "shared", 0o750)
    make_engine(f"sqlite:///{tmp_path / 'shared' / 'x.db'}").dispose()
    assert mode(tmp_path / "shared") == 0o750
    assert mode(tmp_path / "shared" / "x.db") == 0o600


def test_the_outbox_providers_messages_are_owner_only(tmp_path):
    provider = OutboxProvider(tmp_path / "outbox")
    provider.send(
        {"channel": "email", "contact_id": "c1", "message_id": "m1", "to": "olena@example.com"}
    )
    folder = tmp_path / "outbox" / "email" / "c1"
    for made in (tmp_path / "outbox", folder.parent, folder):
        assert mode(made) == 0o700
    assert mode(folder / "m1.json") == 0o600
    assert os.listdir(folder) == ["m1.json"]  # no draft left


def test_plexus_run_makes_the_data_directory_owner_only(tmp_path):
    with DataDirLock(tmp_path / "var"):
        assert mode(tmp_path / "var") == 0o700
