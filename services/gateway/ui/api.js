// The /v1 API as the page uses it: the key from sessionStorage in every request, and
// problem+json errors turned into one readable Error.

const KEY = "plexus.apiKey";

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, problem) {
    const fields = Object.entries(problem.errors || {})
      .map(([field, messages]) => `${field}: ${messages.join(", ")}`);
    super([problem.detail || problem.title || `HTTP ${status}`, ...fields].join("; "));
    this.status = status;
    this.problem = problem;
  }
}

async function send(method, path, body, query) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Authorization: `Bearer ${session.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON: keep the status */ }
    if (response.status === 401) window.dispatchEvent(new Event("plexus:unauthorized"));
    throw new ApiError(response.status, problem);
  }
  return response;
}

async function json(method, path, body, query) {
  const response = await send(method, path, body, query);
  return response.status === 204 ? null : response.json();
}

export const api = {
  get: (path, query) => json("GET", path, undefined, query),
  post: (path, body) => json("POST", path, body),
  put: (path, body) => json("PUT", path, body),
  patch: (path, body) => json("PATCH", path, body),
  del: (path) => json("DELETE", path),
  // A download: the route needs the key, so it cannot be a plain link.
  blob: async (path, query) => (await send("GET", path, undefined, query)).blob(),
};

export const contactPath = (id, rest = "") => `/v1/contacts/${encodeURIComponent(id)}${rest}`;
