from plexus.migrations import run_migrations
from services.messaging.models import Base

run_migrations(Base.metadata)
