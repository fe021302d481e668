// Requests to the JSON API on the page's own origin, and reading their
// answers. Every page uses these; none calls fetch itself.

const REQUEST_TIMEOUT_MS = 15000;

// request is fetch on the same origin, with cookies, JSON, no caching and a
// time limit. options.json is sent as a JSON body; options.timeout (ms)
// replaces the default time limit.
export function request(path, options = {}) {
  const init = {
    method: options.method || "GET",
    headers: { Accept: "application/json" },
    cache: "no-store",
    credentials: "same-origin",
    signal: AbortSignal.timeout(options.timeout || REQUEST_TIMEOUT_MS),
  };
  if (options.json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  return fetch(path, init);
}

// readJSON is the answer's JSON body, or null.
export async function readJSON(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

// errorOf reads an error answer's {"error": CODE, "message": TEXT}; both
// are "" when absent.
export async function errorOf(res) {
  const body = await readJSON(res);
  return {
    code: body && typeof body.error === "string" ? body.error : "",
    message: body && typeof body.message === "string" ? body.message : "",
  };
}

// busyText says what an unexpected error answer means for the user.
export function busyText(res) {
  return res.status === 503 || res.status === 429
    ? "The server is busy right now. Please try again in a moment."
    : `The server answered with an error (HTTP ${res.status}). Please try again.`;
}

// retryAfterMs reads Retry-After (delay-seconds or an HTTP date, the latter
// read against now, the server's clock when the caller knows it): how long
// to wait, 0 when the header says nothing.
export function retryAfterMs(res, now = Date.now()) {
  const raw = (res.headers.get("Retry-After") || "").trim();
  if (/^\d+$/.test(raw)) {
    return parseInt(raw, 10) * 1000;
  }
  const when = Date.parse(raw);
  return Number.isNaN(when) ? 0 : Math.max(0, when - now);
}
