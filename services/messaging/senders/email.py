"""The email sender, run and scaled on its own:
`nameko run --config config.yaml services.messaging.senders.email:EmailSender`."""

from services.messaging.senders.base import sender_service

EmailSender = sender_service("email")
