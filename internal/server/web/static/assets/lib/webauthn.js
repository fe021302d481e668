// WebAuthn between the JSON API and the browser. The server sends the
// options of navigator.credentials.create() and .get() as JSON, with every
// binary member base64url-encoded (no padding); the browser wants
// ArrayBuffers there, and answers with a PublicKeyCredential whose binary
// members the server wants base64url again. This module converts both
// ways, by hand rather than with PublicKeyCredential.parse*FromJSON and
// toJSON, which not every browser that has passkeys offers yet.

// supported reports whether this browser can use passkeys at all.
export function supported() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

// encode makes base64url (no padding) of an ArrayBuffer or a view of one.
export function encode(buffer) {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (const b of bytes) {
    binary += String.fromCharCode(b);
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// decode reads base64url (padded or not) into an ArrayBuffer; it throws a
// TypeError on anything else.
export function decode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) {
    throw new TypeError("not base64url");
  }
  const b64 = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  // One character past a group of four holds no whole byte: atob would
  // throw a DOMException rather than the TypeError promised above. Padding,
  // when present, must be exactly what fills the last group ("ABC=", not
  // "ABC==" or "ABCD=").
  const padding = text.length - b64.length;
  if (b64.length % 4 === 1 || (padding > 0 && (b64.length + padding) % 4 !== 0)) {
    throw new TypeError("not base64url");
  }
  const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes.buffer;
}

function descriptors(list) {
  return Array.isArray(list) ? list.map((d) => ({ ...d, id: decode(d.id) })) : list;
}

// creationOptions turns the server's {"publicKey": …} for create() into
// what the browser takes.
export function creationOptions(options) {
  const pk = options.publicKey;
  return {
    publicKey: {
      ...pk,
      challenge: decode(pk.challenge),
      user: { ...pk.user, id: decode(pk.user.id) },
      excludeCredentials: descriptors(pk.excludeCredentials),
    },
  };
}

// requestOptions turns the server's {"publicKey": …} for get() into what
// the browser takes (anything beside publicKey is dropped: the pages use
// the browser's normal prompt, never conditional mediation). An empty
// allowCredentials (a passwordless sign-in) is left out: the
// authenticator then offers its discoverable credentials.
export function requestOptions(options) {
  const pk = options.publicKey;
  const out = { ...pk, challenge: decode(pk.challenge) };
  if (Array.isArray(pk.allowCredentials) && pk.allowCredentials.length > 0) {
    out.allowCredentials = descriptors(pk.allowCredentials);
  } else {
    delete out.allowCredentials;
  }
  return { publicKey: out };
}

// credentialJSON is the browser's PublicKeyCredential as the server reads
// it (the WebAuthn JSON form).
export function credentialJSON(cred) {
  const r = cred.response;
  const response = { clientDataJSON: encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = encode(r.attestationObject);
    if (typeof r.getTransports === "function") {
      response.transports = r.getTransports();
    }
  } else {
    response.authenticatorData = encode(r.authenticatorData);
    response.signature = encode(r.signature);
    if (r.userHandle && r.userHandle.byteLength > 0) {
      response.userHandle = encode(r.userHandle);
    }
  }
  return {
    id: cred.id,
    rawId: encode(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
    clientExtensionResults: typeof cred.getClientExtensionResults === "function" ? cred.getClientExtensionResults() : {},
    response,
  };
}

// create runs navigator.credentials.create with the server's options and
// returns the answer as JSON for the server.
export async function create(options) {
  const cred = await navigator.credentials.create(creationOptions(options));
  return credentialJSON(cred);
}

// get runs navigator.credentials.get with the server's options and returns
// the answer as JSON for the server.
export async function get(options) {
  const cred = await navigator.credentials.get(requestOptions(options));
  return credentialJSON(cred);
}

// failureText says why a create() or get() did not happen, for the user.
// NotAllowedError covers a cancel, a time-out and "no passkey here": the
// browser does not tell them apart, on purpose.
export function failureText(err) {
  switch (err && err.name) {
    case "NotAllowedError":
      return "The passkey request was cancelled or timed out.";
    case "InvalidStateError":
      return "This authenticator holds one of your passkeys already.";
    case "SecurityError":
      return "This browser refused passkeys for this address. Open the site at its public address (https).";
    case "NotSupportedError":
      return "This browser or authenticator does not support passkeys.";
    case "AbortError":
      return "The passkey request was cancelled.";
    default:
      return "The passkey request failed. Please try again.";
  }
}
