"""The rules of the contacts service as plain functions over a SQLAlchemy Session; no
nameko here. Each public function takes the session first and returns JSON-able data
or raises a plexus.errors exception."""
