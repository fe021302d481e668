// Tests of static/assets/lib/validate.js: a form's own check of what a user
// typed, with the server's limits from the page config. Run by
// TestPageLibrariesInNode (js_test.go).

import { test } from "node:test";
import assert from "node:assert/strict";

// Limits of the shape the server sends (internal/server/pages.go:
// pageConfig; the numbers are this test's own), which config.js reads from
// the page's JSON block on import.
const limits = {
  minPasswordChars: 8,
  maxPasswordBytes: 72,
  maxNameChars: 64,
  maxRoles: 3,
  maxRoleChars: 32,
  rolePattern: "^[a-z0-9_-]{1,32}$",
};
globalThis.document = {
  getElementById: (id) => (id === "page-config" ? { textContent: JSON.stringify({ limits }) } : null),
};
const { passwordProblem, nameProblem, parseRoles, rolesProblem } = await import("../static/assets/lib/validate.js");

test("passwordProblem: length in characters, size in UTF-8 bytes", () => {
  const short = "The password is too short: use at least 8 characters.";
  const long = "The password is too long.";
  const cases = [
    ["", short],
    ["1234567", short],
    ["12345678", ""],
    // Characters are code points: 7 emoji (28 bytes) are 7 characters, not 14.
    ["\u{1f600}".repeat(7), short],
    ["\u{1f600}".repeat(8), ""],
    ["a".repeat(72), ""],
    ["a".repeat(73), long],
    // 18 emoji are 72 bytes, 19 are 76: the byte limit, not the count.
    ["\u{1f600}".repeat(18), ""],
    ["\u{1f600}".repeat(19), long],
    ["é".repeat(36), ""],
    ["é".repeat(36) + "a", long],
  ];
  for (const [pw, want] of cases) {
    assert.equal(passwordProblem(pw), want, JSON.stringify(pw));
  }
});

test("passwordProblem: the subject names the field in the message", () => {
  assert.equal(passwordProblem("short", "The new password"), "The new password is too short: use at least 8 characters.");
  assert.equal(passwordProblem("a".repeat(73), "The new password"), "The new password is too long.");
  assert.equal(passwordProblem("long enough", "The new password"), "");
});

test("nameProblem: not empty, at most maxNameChars characters", () => {
  const cases = [
    ["", "Enter a name for the new user."],
    ["alice", ""],
    ["a".repeat(64), ""],
    ["a".repeat(65), "That name is too long: use at most 64 characters."],
    // Counted in characters: 64 emoji are 256 bytes but 64 characters.
    ["\u{1f600}".repeat(64), ""],
    ["\u{1f600}".repeat(65), "That name is too long: use at most 64 characters."],
  ];
  for (const [name, want] of cases) {
    assert.equal(nameProblem(name), want, JSON.stringify(name));
  }
});

test("parseRoles: split on commas and white space, no empties, no repeats", () => {
  const cases = [
    ["", []],
    ["  ,, ", []],
    ["ops", ["ops"]],
    ["ops, admin", ["ops", "admin"]],
    ["ops,admin ops\tdev\nadmin", ["ops", "admin", "dev"]],
    [" , ops ,", ["ops"]],
    // Case is kept: rolesProblem, not parseRoles, says "Ops" is not valid.
    ["Ops ops", ["Ops", "ops"]],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(parseRoles(text), want, JSON.stringify(text));
  }
});

test("rolesProblem: each role matches the pattern, at most maxRoles", () => {
  const invalid = (r) => `The role “${r}” is not valid: use 1 to 32 lowercase letters, digits, - and _.`;
  const cases = [
    [[], ""],
    [["ops"], ""],
    [["ops", "dev_1", "a-b"], ""],
    [["a".repeat(32)], ""],
    [["a".repeat(33)], invalid("a".repeat(33))],
    [["Ops"], invalid("Ops")],
    [["ops", "bad role", "Worse"], invalid("bad role")],
    [["café"], invalid("café")],
    [[""], invalid("")],
    [["a", "b", "c", "d"], "That is more than 3 roles."],
    // A bad role is named before the count.
    [["a", "b", "c", "D"], invalid("D")],
  ];
  for (const [roles, want] of cases) {
    assert.equal(rolesProblem(roles), want, JSON.stringify(roles));
  }
});
