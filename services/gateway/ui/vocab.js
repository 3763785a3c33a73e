// The vocabularies the page shows (channels, origins, activity types by channel), as the
// gateway serves them from the server's own contract: fetched once, never copied here.

let loaded = null;

export function vocabulary() {
  loaded ??= fetch("/ui/vocabulary.json").then((response) => {
    if (!response.ok) throw new Error(`The vocabulary did not load (HTTP ${response.status})`);
    return response.json();
  });
  return loaded;
}

// The activity types that may be asked for with this channel and origin: a channel's own,
// or every channel's; with an origin, only message channels' (only messages have one).
export function typesFor(words, channel, origin) {
  const channels = channel ? [channel] : words.activity_channels;
  const usable = origin
    ? channels.filter((name) => words.message_channels.includes(name)) : channels;
  return [...new Set(usable.flatMap((name) => words.activity_types[name] || []))];
}
