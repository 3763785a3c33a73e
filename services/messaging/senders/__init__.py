"""The channel senders: one nameko service per channel (email, sms, telegram, viber,
webpush, app_push), each consuming its queue (services.messaging.queues), sending through one
provider (providers/) and reporting back to messaging by RPC."""
