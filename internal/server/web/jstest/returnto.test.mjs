// Tests of static/assets/lib/returnto.js: returnTarget decides where the
// login page sends a browser after logging in, so everything it lets
// through must be on this origin, a listed host or a host under the
// domain, as the browser itself reads the URL (Node's URL is the same
// WHATWG parser). Run by TestPageLibrariesInNode (js_test.go).

import { test } from "node:test";
import assert from "node:assert/strict";

const ORIGIN = "https://auth.jwtgate.test";

// config.js reads the page's JSON block on import, and returnTarget's
// defaults come from it and from location: set both up first.
globalThis.location = { origin: ORIGIN, search: "" };
globalThis.document = {
  getElementById: (id) =>
    id === "page-config" ? { textContent: JSON.stringify({ returnTo: { hosts: ["app.other.test"], domain: "Example.Test" } }) } : null,
};
const { returnTarget, afterLogin } = await import("../static/assets/lib/returnto.js");

// What the server would send: its own host is the origin, two listed
// hosts (one only with its port), a numeric one, and a cookie domain.
const allowed = {
  origin: ORIGIN,
  hosts: ["app.other.test", "app.other.test:8443", "127.0.0.1", "[::1]:9000"],
  domain: "example.test",
};

const maxLength = 2048;
const longPath = (n) => "/" + "a".repeat(n - 1);

// [input, the URL returnTarget gives]: what a browser may go to, as the
// browser parsed it (host lower case, default port dropped, path resolved).
const followed = [
  // Paths on this origin.
  ["/", `${ORIGIN}/`],
  ["/home?tab=passkeys#list", `${ORIGIN}/home?tab=passkeys#list`],
  ["/a/../b", `${ORIGIN}/b`],
  // Dot segments can make the path start "//", but it is an absolute URL
  // on this origin now, never read as "//host".
  ["/..//evil.test", `${ORIGIN}//evil.test`],
  ["/%2F%2Fevil.test", `${ORIGIN}/%2F%2Fevil.test`],
  ["/x?next=https://evil.test", `${ORIGIN}/x?next=https://evil.test`],
  [longPath(maxLength), ORIGIN + longPath(maxLength)],
  // This origin written out.
  [`${ORIGIN}/account`, `${ORIGIN}/account`],
  ["HTTPS://AUTH.JWTGATE.TEST/x", `${ORIGIN}/x`],
  // Listed hosts, matched as host[:port] with either scheme.
  ["https://app.other.test/cb?x=1#y", "https://app.other.test/cb?x=1#y"],
  ["http://app.other.test/", "http://app.other.test/"],
  ["https://app.other.test", "https://app.other.test/"],
  ["https://app.other.test?x", "https://app.other.test/?x"],
  ["https://app.other.test#x", "https://app.other.test/#x"],
  ["https://app.other.test:8443/", "https://app.other.test:8443/"],
  ["HTTPS://APP.OTHER.TEST/Path", "https://app.other.test/Path"],
  ["https://app.other.test/@evil.test", "https://app.other.test/@evil.test"],
  ["http://127.0.0.1/", "http://127.0.0.1/"],
  ["http://[::1]:9000/", "http://[::1]:9000/"],
  // The domain and hosts under it, on any port.
  ["https://example.test/", "https://example.test/"],
  ["https://app.example.test/x", "https://app.example.test/x"],
  ["https://a.b.example.test:9443/x", "https://a.b.example.test:9443/x"],
  ["https://SUB.Example.TEST/", "https://sub.example.test/"],
  ["http://app.example.test:8080/", "http://app.example.test:8080/"],
  // A default port written out is the host the text shows.
  ["https://app.example.test:443/", "https://app.example.test/"],
  ["http://app.example.test:80/", "http://app.example.test/"],
  ["https://xn--80ak6aa92e.example.test/", "https://xn--80ak6aa92e.example.test/"],
];

// Inputs returnTarget must refuse ("" = stay, go home), by why.
const refused = {
  "not a string or empty": ["", null, undefined, 42, {}, ["/"]],
  "another host by a leading //": ["//evil.test", "//evil.test/x", "///evil.test", "//app.other.test/"],
  // Browsers read "\" as "/" in http(s) URLs.
  backslash: ["/\\evil.test", "\\\\evil.test", "\\/evil.test", "/\\/evil.test", "https:\\\\evil.test", "https://app.other.test\\@evil.test", "/x\\y"],
  "not http(s)": [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "javascript://app.other.test/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://app.other.test/",
    "file:///etc/passwd",
    "blob:https://auth.jwtgate.test/uuid",
    "ws://app.other.test/",
  ],
  "relative, not a path": ["evil.test", "app.other.test/x", "?x=1", "#x", ".", "./x", "../x"],
  // Browsers skip any number of slashes after a special scheme, and one
  // missing "//" still names a host: "https:evil.test" is https://evil.test.
  "scheme without exactly //": ["https:evil.test", "https:/evil.test", "https:///evil.test", "https:////app.other.test/", "https:app.other.test"],
  userinfo: [
    "https://good@evil.test",
    "https://app.other.test@evil.test/",
    "https://app.other.test:8443@evil.test/",
    "https://evil.test@app.other.test/",
    "https://user:pw@app.example.test/",
    "https://@app.other.test/",
  ],
  // Browsers percent-decode hosts: evil%2eexample.test is evil.example.test.
  "escapes in the host": ["https://evil%2eexample.test", "https://app%2eother.test/", "https://%61pp.other.test/", "https://app.other.test%2f@evil.test/", "https://evil.test%23.example.test/"],
  // Browsers drop tabs and newlines anywhere in a URL.
  "tabs, newlines, spaces, controls": [
    "/\t/evil.test",
    "/\n/evil.test",
    "\n//evil.test",
    "java\tscript:alert(1)",
    "https://app.other.test\t/",
    "https://evil.test\n.example.test/",
    "/x\r\n",
    " /x",
    "/x ",
    "/x\x00",
    "/x\x7f",
    "/x\x0b",
  ],
  // Hosts are IDNA-mapped ("。" is "."), and look-alike letters phish.
  "non-ASCII": [
    "https://аpp.other.test/", // Cyrillic а
    "https://app.example.test/ü",
    "https://evil.test\u3002example.test/",
    "https://app\uff0eexample.test/", // fullwidth full stop
    "/\u00a0",
    "/\u2028",
    "/caf\u00e9",
    "https://app.other.test/\u{1f600}",
  ],
  "over-length": [longPath(maxLength + 1), "https://app.other.test/" + "a".repeat(maxLength)],
  // The browser would go to 127.0.0.1 (or [::1]), which is not what the
  // text shows, so not what was checked.
  "numeric hosts rewritten": [
    "http://0x7f.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.0.0.01/",
    "http://[0:0:0:0:0:0:0:1]:9000/",
    "http://[::0001]:9000/",
    "http://[::ffff:127.0.0.1]/",
  ],
  // Listed hosts are host[:port] matched exactly, as the server does.
  ports: [
    "https://app.other.test:443/",
    "https://app.other.test:8444/",
    "https://app.other.test:0443/",
    "https://app.example.test:0443/",
    "https://app.other.test:/",
    "https://app.other.test:x/",
    "https://app.other.test:99999/",
    "http://127.0.0.1:8080/",
    "http://[::1]/",
  ],
  "look-alikes of the domain and hosts": [
    "https://evilexample.test/",
    "https://example.test.evil.test/",
    "https://example.testevil/",
    "https://evil.test/example.test",
    "https://evil.test/.example.test",
    "https://evil.test?.example.test",
    "https://evil.test#.example.test",
    "https://evil-example.test/",
    "https://example.test./",
    "https://app.example.test./",
    "https://.example.test/",
    "https://a..example.test/",
    "https://app.other.test.evil.test/",
    "https://evilapp.other.test/",
    "https://sub.app.other.test/",
    "https://other.test/",
  ],
  "other origins": ["http://auth.jwtgate.test/", "https://auth.jwtgate.test:8443/", "https://jwtgate.test/", "https://evil.test/"],
};

test("returnTarget follows this origin, listed hosts and the domain", () => {
  for (const [raw, want] of followed) {
    assert.equal(returnTarget(raw, allowed), want, JSON.stringify(raw));
  }
});

for (const [why, inputs] of Object.entries(refused)) {
  test(`returnTarget refuses: ${why}`, () => {
    for (const raw of inputs) {
      assert.equal(returnTarget(raw, allowed), "", JSON.stringify(raw));
    }
  });
}

test("returnTarget: the domain is read case-blind and without a leading dot", () => {
  for (const domain of ["Example.TEST", ".example.test", ".EXAMPLE.test"]) {
    const a = { ...allowed, domain };
    assert.equal(returnTarget("https://app.example.test/", a), "https://app.example.test/", domain);
    assert.equal(returnTarget("https://example.test/", a), "https://example.test/", domain);
    assert.equal(returnTarget("https://evilexample.test/", a), "", domain);
  }
});

test("returnTarget: no domain and no hosts leaves only this origin", () => {
  const a = { origin: ORIGIN, hosts: [], domain: "" };
  assert.equal(returnTarget("/x", a), `${ORIGIN}/x`);
  assert.equal(returnTarget(`${ORIGIN}/x`, a), `${ORIGIN}/x`);
  for (const raw of ["https://app.other.test/", "https://example.test/", "https://app.example.test/"]) {
    assert.equal(returnTarget(raw, a), "", raw);
  }
});

test("returnTarget: paths resolve against the origin given", () => {
  const a = { origin: "http://127.0.0.1:8080", hosts: [], domain: "" };
  assert.equal(returnTarget("/x", a), "http://127.0.0.1:8080/x");
  assert.equal(returnTarget("https://auth.jwtgate.test/x", a), "");
});

test("returnTarget defaults: location.origin and the page config's list", () => {
  assert.equal(returnTarget("/x"), `${ORIGIN}/x`);
  assert.equal(returnTarget(`${ORIGIN}/x`), `${ORIGIN}/x`);
  assert.equal(returnTarget("https://app.other.test/x"), "https://app.other.test/x");
  // The config's domain is "Example.Test": matched case-blind.
  assert.equal(returnTarget("https://sub.example.test/"), "https://sub.example.test/");
  assert.equal(returnTarget("https://app.other.test:8443/"), "");
  assert.equal(returnTarget("https://evilexample.test/"), "");
  assert.equal(returnTarget("//evil.test"), "");
});

test("afterLogin: the page's return_to when it may be followed, else /", () => {
  const cases = [
    ["", "/"],
    ["?return_to=", "/"],
    ["?return_to=%2Faccount%3Ftab%3D1", `${ORIGIN}/account?tab=1`],
    ["?return_to=https%3A%2F%2Fapp.other.test%2Fx", "https://app.other.test/x"],
    ["?return_to=%2F%2Fevil.test", "/"],
    ["?return_to=javascript%3Aalert(1)", "/"],
    ["?return_to=https%3A%2F%2Fevil.test%2F", "/"],
    // URLSearchParams decodes %09: the tab is seen, and refused.
    ["?return_to=%2F%09%2Fevil.test", "/"],
    // The first return_to is the one read (the server refuses two).
    ["?return_to=%2Fa&return_to=%2F%2Fevil.test", `${ORIGIN}/a`],
    // Go's query parser drops a pair with ";", URLSearchParams keeps it:
    // the server never checked this one, so the page must.
    ["?return_to=https%3A%2F%2Fevil.test;x=1", "/"],
  ];
  try {
    for (const [search, want] of cases) {
      location.search = search;
      assert.equal(afterLogin(), want, search);
    }
  } finally {
    location.search = "";
  }
});
