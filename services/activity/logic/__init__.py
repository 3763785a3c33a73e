"""The activity service's rules as plain functions over a SQLAlchemy Session."""
