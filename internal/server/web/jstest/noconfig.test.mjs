// Tests of the page library without the page's config block (config.js:
// then the page checks nothing itself, leaving it to the server, and
// trusts no return target off its own origin). A file of its own, because
// config.js reads the block once, on import. Run by
// TestPageLibrariesInNode (js_test.go).

import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.document = { getElementById: () => null };
globalThis.location = { origin: "https://auth.jwtgate.test", search: "" };
const { limits, returnTo, accounts, passkeys } = await import("../static/assets/lib/config.js");
const { passwordProblem, nameProblem, rolesProblem } = await import("../static/assets/lib/validate.js");
const { returnTarget } = await import("../static/assets/lib/returnto.js");

test("config without its block: no limits, no hosts, closed signup", () => {
  assert.deepEqual({ ...limits }, {});
  assert.deepEqual({ hosts: [...returnTo.hosts], domain: returnTo.domain }, { hosts: [], domain: "" });
  assert.deepEqual({ ...accounts }, { signup: "closed", email: false, requireEmail: false });
  assert.equal(passkeys, false);
});

test("validate without limits: only an empty name is a problem", () => {
  assert.equal(passwordProblem(""), "");
  assert.equal(passwordProblem("x".repeat(10000)), "");
  assert.equal(nameProblem("x".repeat(10000)), "");
  assert.equal(nameProblem(""), "Enter a name for the new user.");
  assert.equal(rolesProblem(["Not A Role", "x", "y", "z"]), "");
});

test("returnTarget without a host list: this origin only", () => {
  assert.equal(returnTarget("/x"), "https://auth.jwtgate.test/x");
  assert.equal(returnTarget("https://auth.jwtgate.test/x"), "https://auth.jwtgate.test/x");
  assert.equal(returnTarget("https://app.other.test/"), "");
  assert.equal(returnTarget("//evil.test"), "");
});
