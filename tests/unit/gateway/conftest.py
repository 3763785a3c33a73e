import pytest
from sqlalchemy.orm import sessionmaker

from plexus.db import make_engine
from services.gateway.models import Base


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()
