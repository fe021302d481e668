// Tests of static/assets/lib/webauthn.js's pure functions: the base64url
// codec and the conversions between the server's WebAuthn JSON and the
// browser's ArrayBuffers. Run by TestPageLibrariesInNode (js_test.go).

import { test } from "node:test";
import assert from "node:assert/strict";

// webauthn.js needs no globals at import; btoa and atob are Node's own.
const { encode, decode, creationOptions, requestOptions, credentialJSON, failureText } = await import("../static/assets/lib/webauthn.js");

const bytes = (...b) => new Uint8Array(b);
const buf = (...b) => bytes(...b).buffer;
const text = (s) => new TextEncoder().encode(s);
const asBytes = (ab) => {
  assert.ok(ab instanceof ArrayBuffer, "an ArrayBuffer");
  return [...new Uint8Array(ab)];
};

// Vectors from RFC 4648 §10, plus the bytes that differ between base64
// and base64url (0xfb 0xff: "+/" vs "-_").
const vectors = [
  { bytes: [], b64url: "" },
  { bytes: [...text("f")], b64url: "Zg" },
  { bytes: [...text("fo")], b64url: "Zm8" },
  { bytes: [...text("foo")], b64url: "Zm9v" },
  { bytes: [...text("foob")], b64url: "Zm9vYg" },
  { bytes: [...text("fooba")], b64url: "Zm9vYmE" },
  { bytes: [...text("foobar")], b64url: "Zm9vYmFy" },
  { bytes: [0xfb, 0xff], b64url: "-_8" },
  { bytes: [0xfb, 0xef, 0xbe], b64url: "----" },
  { bytes: [0xff, 0xff, 0xff], b64url: "____" },
  { bytes: [0, 0, 0], b64url: "AAAA" },
];

test("encode: base64url without padding", () => {
  for (const v of vectors) {
    assert.equal(encode(new Uint8Array(v.bytes).buffer), v.b64url, `ArrayBuffer ${v.bytes}`);
    assert.equal(encode(new Uint8Array(v.bytes)), v.b64url, `Uint8Array ${v.bytes}`);
  }
});

test("encode: a view encodes only its own window of the buffer", () => {
  const whole = bytes(1, 2, 0xfb, 0xff, 3, 4);
  assert.equal(encode(whole.subarray(2, 4)), "-_8");
  assert.equal(encode(new DataView(whole.buffer, 2, 2)), "-_8");
});

test("decode: base64url, padded or not, into an ArrayBuffer", () => {
  for (const v of vectors) {
    assert.deepEqual(asBytes(decode(v.b64url)), v.bytes, v.b64url);
    const padded = v.b64url + "=".repeat((4 - (v.b64url.length % 4)) % 4);
    assert.deepEqual(asBytes(decode(padded)), v.bytes, padded);
  }
});

test("decode(encode(x)) is x for every byte value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (let n = 0; n <= all.length; n += 17) {
    assert.deepEqual(asBytes(decode(encode(all.subarray(0, n)))), [...all.subarray(0, n)], `first ${n} bytes`);
  }
});

test("decode: TypeError on anything that is not base64url", () => {
  const bad = [
    ["standard base64 +", "a+b/"],
    ["standard base64 /", "ab/c"],
    ["space", "Zm9v Zg"],
    ["newline", "Zm9v\nZg"],
    ["padding inside", "Zg==Zg"],
    ["three = signs", "Z==="],
    ["non-ASCII", "Zm9vé"],
    ["dot", "Zm9v.Zg"],
    // A single character past a group of four cannot hold a byte: atob
    // rejects it with a DOMException, which the contract says is a TypeError.
    ["one char", "A"],
    ["one char padded", "A=="],
    ["five chars", "Zm9vY"],
    // Padding must fill the last group exactly, no more, no less.
    ["too much padding", "ABC=="],
    ["padding after a full group", "Zm9v="],
    ["padding after a full group, two", "Zm9v=="],
    ["too little padding", "Zg="],
    ["not a string: null", null],
    ["not a string: undefined", undefined],
    ["not a string: number", 42],
    ["not a string: bytes", bytes(1, 2)],
  ];
  for (const [name, input] of bad) {
    assert.throws(() => decode(input), TypeError, name);
  }
});

// The shape go-webauthn sends for a registration (protocol.CredentialCreation).
const creation = {
  publicKey: {
    rp: { name: "jwtgate", id: "auth.example.test" },
    user: { name: "alice", displayName: "alice", id: "AQID" },
    challenge: "Zm9vYmFy",
    pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
    timeout: 300000,
    excludeCredentials: [
      { type: "public-key", id: "-_8", transports: ["usb"] },
      { type: "public-key", id: "AAAA" },
    ],
    authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    attestation: "none",
  },
};

test("creationOptions: binary members decoded, the rest kept", () => {
  const before = structuredClone(creation);
  const { publicKey: pk, ...rest } = creationOptions(creation);
  assert.deepEqual(rest, {});
  assert.deepEqual(asBytes(pk.challenge), [...text("foobar")]);
  assert.deepEqual(asBytes(pk.user.id), [1, 2, 3]);
  assert.equal(pk.user.name, "alice");
  assert.equal(pk.user.displayName, "alice");
  assert.equal(pk.excludeCredentials.length, 2);
  assert.deepEqual(asBytes(pk.excludeCredentials[0].id), [0xfb, 0xff]);
  assert.deepEqual(pk.excludeCredentials[0].transports, ["usb"]);
  assert.equal(pk.excludeCredentials[0].type, "public-key");
  assert.deepEqual(asBytes(pk.excludeCredentials[1].id), [0, 0, 0]);
  for (const key of ["rp", "pubKeyCredParams", "timeout", "authenticatorSelection", "attestation"]) {
    assert.deepEqual(pk[key], creation.publicKey[key], key);
  }
  // The server's object is read, not changed.
  assert.deepEqual(creation, before);
});

test("creationOptions: no excludeCredentials stays absent", () => {
  const { excludeCredentials, ...pk } = creation.publicKey;
  const out = creationOptions({ publicKey: pk });
  assert.equal(out.publicKey.excludeCredentials, undefined);
});

test("creationOptions: a bad challenge throws TypeError", () => {
  assert.throws(() => creationOptions({ publicKey: { ...creation.publicKey, challenge: "a+b" } }), TypeError);
});

test("requestOptions: allowCredentials decoded when there are some", () => {
  const options = {
    publicKey: {
      challenge: "Zm9v",
      rpId: "auth.example.test",
      userVerification: "preferred",
      allowCredentials: [{ type: "public-key", id: "AQID", transports: ["internal", "hybrid"] }],
    },
  };
  const before = structuredClone(options);
  const out = requestOptions(options);
  assert.deepEqual(Object.keys(out), ["publicKey"]);
  const pk = out.publicKey;
  assert.deepEqual(asBytes(pk.challenge), [...text("foo")]);
  assert.equal(pk.rpId, "auth.example.test");
  assert.equal(pk.userVerification, "preferred");
  assert.equal(pk.allowCredentials.length, 1);
  assert.deepEqual(asBytes(pk.allowCredentials[0].id), [1, 2, 3]);
  assert.deepEqual(pk.allowCredentials[0].transports, ["internal", "hybrid"]);
  assert.deepEqual(options, before);
});

test("requestOptions: an empty or missing allowCredentials is left out", () => {
  // A passwordless sign-in: with the member absent, the authenticator offers
  // its discoverable credentials (an empty list would mean "none").
  for (const [name, allow] of [["empty", []], ["null", null], ["absent", undefined]]) {
    const pk = { challenge: "Zm9v", rpId: "auth.example.test" };
    if (allow !== undefined) {
      pk.allowCredentials = allow;
    }
    const out = requestOptions({ publicKey: pk });
    assert.ok(!("allowCredentials" in out.publicKey), name);
    assert.deepEqual(asBytes(out.publicKey.challenge), [...text("foo")], name);
    assert.equal(pk.allowCredentials, allow, `${name}: input unchanged`);
  }
});

// The credentials below are plain objects with the members a browser's
// PublicKeyCredential has; the JSON has each binary one as base64url.
test("credentialJSON: an attestation (create)", () => {
  const cred = {
    id: "AQID",
    rawId: buf(1, 2, 3),
    type: "public-key",
    authenticatorAttachment: "platform",
    getClientExtensionResults: () => ({ credProps: { rk: true } }),
    response: {
      clientDataJSON: text('{"type":"webauthn.create"}').buffer,
      attestationObject: buf(0xa3, 0x63),
      getTransports: () => ["internal", "hybrid"],
    },
  };
  assert.deepEqual(credentialJSON(cred), {
    id: "AQID",
    rawId: "AQID",
    type: "public-key",
    authenticatorAttachment: "platform",
    clientExtensionResults: { credProps: { rk: true } },
    response: {
      clientDataJSON: encode(text('{"type":"webauthn.create"}')),
      attestationObject: "o2M",
      transports: ["internal", "hybrid"],
    },
  });
});

test("credentialJSON: an attestation from a browser without getTransports", () => {
  const out = credentialJSON({
    id: "AQID",
    rawId: buf(1, 2, 3),
    type: "public-key",
    response: { clientDataJSON: buf(0x7b, 0x7d), attestationObject: buf(0xa0) },
  });
  assert.deepEqual(out.response, { clientDataJSON: "e30", attestationObject: "oA" });
  // No getClientExtensionResults: an empty object, not undefined.
  assert.deepEqual(out.clientExtensionResults, {});
  // No attachment: left out of the JSON the server reads.
  assert.equal(out.authenticatorAttachment, undefined);
  assert.ok(!("authenticatorAttachment" in JSON.parse(JSON.stringify(out))));
});

const assertion = (userHandle) => ({
  id: "-_8",
  rawId: buf(0xfb, 0xff),
  type: "public-key",
  authenticatorAttachment: "cross-platform",
  getClientExtensionResults: () => ({}),
  response: {
    clientDataJSON: buf(0x7b, 0x7d),
    authenticatorData: buf(0, 0, 0),
    signature: buf(0x30, 0x45),
    userHandle,
  },
});

test("credentialJSON: an assertion (get) with a userHandle", () => {
  assert.deepEqual(credentialJSON(assertion(buf(1, 2, 3))), {
    id: "-_8",
    rawId: "-_8",
    type: "public-key",
    authenticatorAttachment: "cross-platform",
    clientExtensionResults: {},
    response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "MEU", userHandle: "AQID" },
  });
});

test("credentialJSON: an assertion without a userHandle leaves it out", () => {
  // A browser gives null for a non-discoverable credential; some give an
  // empty buffer. Either way the server must not see userHandle: "".
  for (const [name, handle] of [["null", null], ["empty", new ArrayBuffer(0)], ["absent", undefined]]) {
    const out = credentialJSON(assertion(handle));
    assert.deepEqual(out.response, { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "MEU" }, name);
  }
});

test("failureText: a message for each DOMException name, a fallback otherwise", () => {
  const cases = [
    ["NotAllowedError", "The passkey request was cancelled or timed out."],
    ["InvalidStateError", "This authenticator holds one of your passkeys already."],
    ["SecurityError", "This browser refused passkeys for this address. Open the site at its public address (https)."],
    ["NotSupportedError", "This browser or authenticator does not support passkeys."],
    ["AbortError", "The passkey request was cancelled."],
  ];
  for (const [name, want] of cases) {
    assert.equal(failureText(new DOMException("x", name)), want, name);
    assert.equal(failureText({ name }), want, `plain object ${name}`);
  }
  const fallback = "The passkey request failed. Please try again.";
  for (const err of [new TypeError("not base64url"), new Error("boom"), null, undefined, "NotAllowedError", {}, { name: "notallowederror" }]) {
    assert.equal(failureText(err), fallback, String(err));
  }
});
