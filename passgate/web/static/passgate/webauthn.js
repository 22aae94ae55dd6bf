// Passgate: WebAuthn glue for the sign-in and security-info pages. No framework, no build step.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function b64urlToBuf(s) {
    const pad = "=".repeat((4 - (s.length % 4)) % 4);
    const bin = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  }
  function bufToB64url(buf) {
    let bin = "";
    new Uint8Array(buf).forEach((b) => (bin += String.fromCharCode(b)));
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: b64urlToBuf(json.challenge),
      user: Object.assign({}, json.user, { id: b64urlToBuf(json.user.id) }),
      excludeCredentials: (json.excludeCredentials || []).map((c) => Object.assign({}, c, { id: b64urlToBuf(c.id) })),
    });
  }
  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: b64urlToBuf(json.challenge),
      allowCredentials: (json.allowCredentials || []).map((c) => Object.assign({}, c, { id: b64urlToBuf(c.id) })),
    });
  }
  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    const r = cred.response;
    const out = { id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults(), response: { clientDataJSON: bufToB64url(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      out.response.userHandle = r.userHandle ? bufToB64url(r.userHandle) : null;
    }
    return out;
  }

  async function post(url, body) {
    const res = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(body || {}) });
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (!res.ok) {
      const err = new Error((data.error && data.error.message) || "Something went wrong (" + res.status + ").");
      err.code = data.error && data.error.code;
      throw err;
    }
    return data;
  }

  function showError(el, err) {
    if (!el) return;
    const msg = err && err.name === "NotAllowedError"
      ? "No passkey was used: the request was cancelled or timed out, or this authenticator can't verify you " +
        "with a PIN, fingerprint or face. Try again."
      : err && err.name === "InvalidStateError"
        ? "This passkey is already registered for your account."
        : (err && err.message) || String(err);
    el.textContent = msg;
    el.hidden = false;
  }

  // WebAuthn Signal API (feature-detected): tell the passkey provider which of its passkeys Passgate still
  // accepts and the person's current names, and forget one Passgate does not know. Never blocks for long.
  async function sendSignals(s) {
    if (!s || !window.PublicKeyCredential) return;
    try { await sendSignalsNow(s); } catch (e) { /* best effort */ }
  }
  async function sendSignalsNow(s) {
    const tasks = [];
    if (PublicKeyCredential.signalAllAcceptedCredentials) {
      tasks.push(PublicKeyCredential.signalAllAcceptedCredentials(
        { rpId: s.rpId, userId: s.userId, allAcceptedCredentialIds: s.allAcceptedCredentialIds }));
    }
    if (PublicKeyCredential.signalCurrentUserDetails) {
      tasks.push(PublicKeyCredential.signalCurrentUserDetails(
        { rpId: s.rpId, userId: s.userId, name: s.name, displayName: s.displayName }));
    }
    await Promise.race([Promise.allSettled(tasks), new Promise((done) => setTimeout(done, 1000))]);
  }
  function signalUnknown(rpId, credentialId) {
    if (!window.PublicKeyCredential || !PublicKeyCredential.signalUnknownCredential) return;
    try {
      Promise.resolve(PublicKeyCredential.signalUnknownCredential({ rpId, credentialId })).catch(() => {});
    } catch (e) { /* a signal never stands in the way of the message the person needs */ }
  }

  async function signIn(optionsUrl, verifyUrl, next, mediation, signal) {
    const { publicKey } = await post(optionsUrl);
    const options = { publicKey: requestOptions(publicKey) };
    if (mediation) options.mediation = mediation;
    if (signal) options.signal = signal;
    const cred = await navigator.credentials.get(options);
    const join = verifyUrl.indexOf("?") === -1 ? "?" : "&";
    let data;
    try {
      data = await post(verifyUrl + (next ? join + "next=" + encodeURIComponent(next) : ""), { credential: credentialJSON(cred) });
    } catch (err) {
      if (err.code === "unknown_credential") signalUnknown(publicKey.rpId || window.location.hostname, cred.id);
      throw err;
    }
    await sendSignals(data.signals);
    window.location.assign(data.redirect || "/");
  }

  function initSignin(root) {
    const errorEl = document.getElementById("signin-error");
    const next = root.dataset.next;
    let autofill = null;
    // data-autofill tells what the passkey autofill request is doing: unavailable | pending | ended | aborted
    const state = (s) => {
      document.body.dataset.autofill = s;
      document.getElementById("autofill-hint").hidden = s !== "pending";  // only while autofill can offer a passkey
    };
    const startAutofill = async () => {
      if (!window.PublicKeyCredential || !PublicKeyCredential.isConditionalMediationAvailable ||
          !(await PublicKeyCredential.isConditionalMediationAvailable())) return state("unavailable");
      autofill = new AbortController();
      state("pending");
      try {
        await signIn("/signin/passkey/options", "/signin/passkey/verify", next, "conditional", autofill.signal);
      } catch (err) {
        if (err.name === "AbortError") return state("aborted");
        if (err.name !== "NotAllowedError") showError(errorEl, err);
      }
      state("ended");
    };
    document.getElementById("passkey-button").addEventListener("click", async () => {
      if (autofill) autofill.abort();
      errorEl.hidden = true;
      try {
        await signIn("/signin/passkey/options", "/signin/passkey/verify", next, null, null);
      } catch (err) {
        showError(errorEl, err);
      }
    });
    const user = document.getElementById("username");
    user.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); document.getElementById("passkey-button").click(); }
    });
    document.getElementById("tap-link").addEventListener("click", (e) => {
      if (!user.value) return;
      const url = new URL(e.currentTarget.getAttribute("href"), window.location.href);  // keeps ?next=
      url.searchParams.set("upn", user.value);
      e.currentTarget.href = url.pathname + url.search;
    });
    startAutofill();
  }

  function initReauth(root) {
    const button = document.getElementById("reauth-button");
    if (!button) return;
    button.addEventListener("click", async () => {
      const errorEl = document.getElementById("reauth-error");
      errorEl.hidden = true;
      try {
        await signIn("/signin/reauth/options", "/signin/reauth/verify", root.dataset.next, null, null);
      } catch (err) {
        showError(errorEl, err);
      }
    });
  }

  function initStepUp(root) {
    const button = document.getElementById("stepup-button");
    if (!button) return;
    button.addEventListener("click", async () => {
      const errorEl = document.getElementById("stepup-error");
      errorEl.hidden = true;
      try {
        await signIn("/signin/step-up/options", root.dataset.verify, root.dataset.next, null, null);
      } catch (err) {
        showError(errorEl, err);
      }
    });
  }

  function initSecurityInfo() {
    const form = document.getElementById("add-passkey-form");
    if (!form) return;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const errorEl = document.getElementById("add-error");
      errorEl.hidden = true;
      const button = document.getElementById("add-passkey");
      button.disabled = true;
      try {
        const { publicKey } = await post("/security-info/passkeys/options");
        const cred = await navigator.credentials.create({ publicKey: creationOptions(publicKey) });
        const data = await post("/security-info/passkeys/verify", {
          name: document.getElementById("passkey-name").value, credential: credentialJSON(cred),
          ...(form.dataset.next ? { next: form.dataset.next } : {}) });
        window.location.assign(data.redirect || "/security-info");
      } catch (err) {
        showError(errorEl, err);
        if (err.code === "reauthentication_required") window.location.assign("/signin/reauth?next=/security-info");
      } finally {
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const signals = document.getElementById("passkey-signals");  // every signed-in page (base.html)
    if (signals) sendSignals(JSON.parse(signals.dataset.signals));
    const page = document.querySelector("[data-page]");
    if (!page) return;
    if (page.dataset.page === "signin") initSignin(page);
    if (page.dataset.page === "reauth") initReauth(page);
    if (page.dataset.page === "stepup") initStepUp(page);
    if (page.dataset.page === "security-info") initSecurityInfo();
  });
})();
