from plexus.migrations import run_migrations
from services.activity.models import Base

run_migrations(Base.metadata)
