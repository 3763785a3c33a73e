"""The webpush sender, run and scaled on its own:
`nameko run --config config.yaml services.messaging.senders.webpush:WebpushSender`."""

from services.messaging.senders.base import sender_service

WebpushSender = sender_service("webpush")
