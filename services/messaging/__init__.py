"""The messaging service: templates, messages and their status history; the channel
senders (services.messaging.senders) deliver what it queues."""
