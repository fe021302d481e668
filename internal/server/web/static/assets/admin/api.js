// The admin API as the admin page calls it, and what its errors mean.

import { errorOf, readJSON, busyText } from "../lib/http.js";
import { SessionEnded } from "../lib/session.js";
import { sentence } from "../lib/dom.js";

// Forbidden is thrown by call when an admin route answered 403 forbidden:
// the session has lost the admin role (the page has been told already).
export class Forbidden extends Error {}

// adminCalls returns call, the session's api for the admin routes, which
// calls onForbidden and throws Forbidden on a 403 forbidden; and quiet,
// which reports whether an error only means the page has moved on (the
// session ended, or the role went): nothing more to say about it.
export function adminCalls(session, onForbidden) {
  async function call(path, options) {
    const res = await session.api(path, options);
    if (res.status === 403) {
      const body = await readJSON(res.clone());
      if (body && body.error === "forbidden") {
        onForbidden();
        throw new Forbidden();
      }
    }
    return res;
  }
  const quiet = (err) => err instanceof SessionEnded || err instanceof Forbidden;
  return Object.freeze({ call, quiet });
}

// problem turns an error answer of the admin API into a sentence that
// starts with what (what did not happen).
export async function problem(res, what) {
  const { code, message } = await errorOf(res);
  if (res.status === 409 && code === "self") {
    return `${sentence(message) || "You cannot do that to your own account."} Another administrator has to.`;
  }
  if (res.status === 404) {
    return `${what}: there is no such user any more.`;
  }
  if (res.status === 400 && message) {
    return `${what}: ${sentence(message)}`;
  }
  if (res.status === 413) {
    return `${what}: that is too long.`;
  }
  if (res.status === 401) {
    return "Your session could not be renewed. Please try again in a moment.";
  }
  return `${what}: ${busyText(res)}`;
}

// userPath is the admin API's path for a user, and rest.
export function userPath(name, rest = "") {
  return `/admin/users/${encodeURIComponent(name)}${rest}`;
}
