"""The services that make up the suite, in start order, with the nameko class of each.
`plexus run`, `plexus migrate`, the gateway's /status and the tests read this one list."""

SERVICES: dict[str, str] = {
    "contacts": "services.contacts.entrypoints:ContactsService",
    "activity": "services.activity.entrypoints:ActivityService",
    "messaging": "services.messaging.entrypoints:MessagingService",
    # One sender per channel, each run and scaled on its own; they consume what
    # messaging queues (services.messaging.queues).
    "sender_email": "services.messaging.senders.email:EmailSender",
    "sender_sms": "services.messaging.senders.sms:SmsSender",
    "sender_telegram": "services.messaging.senders.telegram:TelegramSender",
    "sender_viber": "services.messaging.senders.viber:ViberSender",
    "sender_webpush": "services.messaging.senders.webpush:WebpushSender",
    "sender_app_push": "services.messaging.senders.app_push:AppPushSender",
    "segments": "services.segments.entrypoints:SegmentsService",
    "campaigns": "services.campaigns.entrypoints:CampaignsService",
    "gateway": "services.gateway.entrypoints:GatewayService",
}

# Services the gateway calls by RPC (all but itself); /status pings each.
BACKENDS = tuple(name for name in SERVICES if name != "gateway")
