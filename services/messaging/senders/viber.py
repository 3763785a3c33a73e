"""The viber sender, run and scaled on its own:
`nameko run --config config.yaml services.messaging.senders.viber:ViberSender`."""

from services.messaging.senders.base import sender_service

ViberSender = sender_service("viber")
