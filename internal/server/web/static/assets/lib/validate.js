// Checking what a user typed as the server will check it, with the
// server's own limits (config.js), so that a form says what is wrong before
// a round trip. The server checks again; its answer has the last word.

import { limits } from "./config.js";

const chars = (s) => Array.from(s).length;
const bytes = (s) => new TextEncoder().encode(s).length;

// passwordProblem checks a new password, or returns "". subject names it
// in the message ("The new password").
export function passwordProblem(pw, subject = "The password") {
  const min = limits.minPasswordChars || 0;
  if (chars(pw) < min) {
    return `${subject} is too short: use at least ${min} characters.`;
  }
  if (limits.maxPasswordBytes && bytes(pw) > limits.maxPasswordBytes) {
    return `${subject} is too long.`;
  }
  return "";
}

// nameProblem checks a new user's name, or returns "".
export function nameProblem(name) {
  if (name === "") {
    return "Enter a name for the new user.";
  }
  if (limits.maxNameChars && chars(name) > limits.maxNameChars) {
    return `That name is too long: use at most ${limits.maxNameChars} characters.`;
  }
  return "";
}

// parseRoles splits "ops, admin" into ["ops", "admin"], without repeats.
export function parseRoles(text) {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

// rolesProblem checks a list of roles, or returns "".
export function rolesProblem(roles) {
  if (limits.rolePattern) {
    const role = new RegExp(limits.rolePattern);
    const bad = roles.find((r) => !role.test(r));
    if (bad !== undefined) {
      return `The role “${bad}” is not valid: use 1 to ${limits.maxRoleChars} lowercase letters, digits, - and _.`;
    }
  }
  if (limits.maxRoles && roles.length > limits.maxRoles) {
    return `That is more than ${limits.maxRoles} roles.`;
  }
  return "";
}
