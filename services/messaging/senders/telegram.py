"""The telegram sender, run and scaled on its own:
`nameko run --config config.yaml services.messaging.senders.telegram:TelegramSender`."""

from services.messaging.senders.base import sender_service

TelegramSender = sender_service("telegram")
