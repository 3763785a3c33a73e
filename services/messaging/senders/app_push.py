"""The app push sender (FCM HTTP v1), run and scaled on its own:
`nameko run --config config.yaml services.messaging.senders.app_push:AppPushSender`."""

from services.messaging.senders.base import sender_service

AppPushSender = sender_service("app_push")
