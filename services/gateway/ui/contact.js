// What the page knows about contacts beyond their JSON: names, channels, black lists,
// and why a channel cannot be used (the same rules the messaging service applies, so the
// send dialog can say why before the 409 does).

export const CHANNELS = ["email", "sms", "telegram", "viber", "webpush_desktop",
  "webpush_mobile", "app_push"];
export const BLACKLISTS = ["email", "phone", "viber"];
// The black list that stops each channel.
const LIST_OF = { email: "email", sms: "phone", viber: "viber" };

// Black lists hold addresses: the contact's route lists the one it has now, if any.
const CHANNEL_OF = { email: "email", phone: "sms", viber: "viber" };

export function hasListedAddress(contact, list) {
  return hasAddress(contact, CHANNEL_OF[list]);
}

export function displayName(contact) {
  return [contact.first_name, contact.last_name].filter(Boolean).join(" ") || "(no name)";
}

function hasAddress(contact, channel) {
  const channels = contact.channels || {};
  switch (channel) {
    case "email": return Boolean(contact.email);
    case "sms": return Boolean(contact.phone);
    case "telegram": return Boolean(channels.telegram);
    case "viber": return Boolean(channels.viber);
    case "app_push": return (channels.app_push || []).length > 0;
    default: {
      const device = channel.replace("webpush_", "");
      return (channels.webpush || []).some((sub) => sub.device === device);
    }
  }
}

// null when the contact can be sent a message on the channel, else the reason.
export function blockedReason(contact, channel) {
  if (contact.status !== "active") return "the contact is inactive";
  const list = LIST_OF[channel];
  if (list && contact.blacklists?.[list]) return `the ${list} is on the black list`;
  if (!hasAddress(contact, channel)) return `the contact has no ${channel} address`;
  const status = contact.subscriptions?.[channel]?.status || "never";
  if (status !== "subscribed") {
    return status === "never" ? `never subscribed to ${channel}` : `unsubscribed from ${channel}`;
  }
  return null;
}

export const GENDERS = { 0: "not known", 1: "male", 2: "female", 9: "not applicable" };
