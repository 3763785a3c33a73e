from plexus.migrations import run_migrations
from services.gateway.models import Base

run_migrations(Base.metadata)
