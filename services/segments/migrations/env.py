from plexus.migrations import run_migrations
from services.segments.models import Base

run_migrations(Base.metadata)
