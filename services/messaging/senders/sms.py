"""The sms sender, run and scaled on its own:
`nameko run --config config.yaml services.messaging.senders.sms:SmsSender`."""

from services.messaging.senders.base import sender_service

SmsSender = sender_service("sms")
