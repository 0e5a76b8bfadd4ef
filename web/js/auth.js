// Sign-in straight against the Cognito user pool API (no SDK): USER_PASSWORD_AUTH, the
// NEW_PASSWORD_REQUIRED / MFA_SETUP / SOFTWARE_TOKEN_MFA challenges, silent refresh, sign-out.
// Tokens live in memory and in this tab's sessionStorage, never in a URL or localStorage.
// Tabs share the session over a BroadcastChannel (same origin only): a new tab asks the open ones,
// one hands its tokens over (memory and that tab's sessionStorage), and signing out in one tab
// signs out every tab.

const STORAGE_KEY = "docuserve.session";
const CHANNEL = "docuserve.auth";
const HANDOVER_WAIT_MS = 300; // how long a new tab waits for an open tab's answer
const REFRESH_MARGIN_MS = 120_000; // refresh two minutes before the ID token expires

export class AuthError extends Error {
  constructor(code, message) {
    super(message || code || "Sign-in failed.");
    this.name = "AuthError";
    this.code = code || "";
  }
}

// Cognito's own messages are never shown (they name internals, and one has a typo): each error
// code gets a sentence here; an unknown one gets a plain fallback.
const FRIENDLY = {
  NotAuthorizedException: "The email or password is not right.",
  UserNotFoundException: "The email or password is not right.",
  UserNotConfirmedException: "This account is not confirmed yet. Ask an administrator for a new invitation.",
  CodeMismatchException: "That code is not right. Enter the current code from your authenticator app.",
  EnableSoftwareTokenMFAException: "That code is not right. Enter the current code from your authenticator app.",
  ExpiredCodeException: "That code has expired. Enter the current one.",
  PasswordResetRequiredException: "Your password must be reset. Ask an administrator for a new invitation.",
  TooManyRequestsException: "Too many attempts. Wait a minute and try again.",
  TooManyFailedAttemptsException: "Too many attempts. Wait a minute and try again.",
  LimitExceededException: "Too many attempts. Wait a minute and try again.",
  InternalErrorException: "Sign-in is not available right now. Try again in a moment.",
};
const FALLBACK = "Sign-in did not work. Try again, or ask an administrator if it keeps failing.";

// The pool's password rule; config.json carries the deployed one (schema.PASSWORD_POLICY).
const DEFAULT_POLICY = {
  min_length: 12, require_lowercase: true, require_uppercase: true, require_digits: true, require_symbols: true,
};
// What Cognito counts as a symbol.
const SYMBOLS = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/;

/** The rule as a sentence: "At least 12 characters, with a lower-case letter, … and a symbol." */
export function describePasswordPolicy(policy = DEFAULT_POLICY) {
  const needs = [];
  if (policy.require_lowercase) needs.push("a lower-case letter");
  if (policy.require_uppercase) needs.push("an upper-case letter");
  if (policy.require_digits) needs.push("a digit");
  if (policy.require_symbols) needs.push("a symbol such as ! or -");
  const last = needs.length > 1 ? `${needs.slice(0, -1).join(", ")} and ${needs[needs.length - 1]}` : needs[0];
  return `At least ${policy.min_length} characters${last ? `, with ${last}` : ""}.`;
}

/** What `password` lacks under `policy` (empty when it meets the rule). */
export function passwordProblems(password, policy = DEFAULT_POLICY) {
  const problems = [];
  if (password.length < policy.min_length) problems.push(`at least ${policy.min_length} characters`);
  if (policy.require_lowercase && !/[a-z]/.test(password)) problems.push("a lower-case letter");
  if (policy.require_uppercase && !/[A-Z]/.test(password)) problems.push("an upper-case letter");
  if (policy.require_digits && !/[0-9]/.test(password)) problems.push("a digit");
  if (policy.require_symbols && !SYMBOLS.test(password)) problems.push("a symbol such as ! or -");
  return problems;
}

/** A sentence for a Cognito error code (and, for a few codes, its message). */
export function friendlyMessage(code, message, policy = DEFAULT_POLICY) {
  const text = String(message || "");
  if (code === "InvalidPasswordException" || (code === "InvalidParameterException" && /password/i.test(text))) {
    return `That password does not meet the rules. ${describePasswordPolicy(policy)}`;
  }
  if (code === "NotAuthorizedException" && /disabled/i.test(text)) {
    return "This account is disabled. Ask an administrator to enable it.";
  }
  if (code === "NotAuthorizedException" && /session/i.test(text)) {
    return "The sign-in session has expired. Start again.";
  }
  if (code === "NotAuthorizedException" && /refresh token|revoked/i.test(text)) {
    return "Your session has ended. Please sign in again.";
  }
  return FRIENDLY[code] || FALLBACK;
}

/** Decode a JWT's payload (no verification: the API verifies; this only reads expiry and names). */
export function decodeJwt(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="))
        .split("")
        .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
        .join(""),
    );
    return JSON.parse(json);
  } catch {
    return {};
  }
}

export class Auth {
  constructor(config) {
    this.clientId = config.user_pool_client_id;
    this.policy = { ...DEFAULT_POLICY, ...(config.password_policy || {}) };
    this.endpoint = config.cognito_endpoint || `https://cognito-idp.${config.region}.amazonaws.com/`;
    this.session = null; // {idToken, accessToken, refreshToken, expiresAt}
    this.challenge = null; // {name, session, username, parameters}
    this.listeners = new Set();
    this.timer = null;
    this.refreshing = null;
    this.waiting = null; // {id, done}: this tab asked the open tabs for their session
    this.channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
    if (this.channel) this.channel.onmessage = (event) => this.onMessage(event.data);
    this.restore();
    /** Resolves once this tab knows whether it is signed in (its own session, or one handed over). */
    this.ready = this.signedIn || !this.channel ? Promise.resolve() : this.askOpenTabs();
  }

  /** Ask the other open tabs for their session; resolve on the first answer or after a short wait. */
  askOpenTabs() {
    return new Promise((resolve) => {
      const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const done = () => {
        if (this.waiting && this.waiting.id === id) this.waiting = null;
        resolve();
      };
      this.waiting = { id, done };
      setTimeout(done, HANDOVER_WAIT_MS);
      this.channel.postMessage({ type: "ask", id });
    });
  }

  onMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "ask" && this.signedIn && this.session.refreshToken) {
      this.channel.postMessage({ type: "session", to: message.id, session: this.session });
    } else if (message.type === "session" && this.waiting && message.to === this.waiting.id) {
      const given = message.session || {};
      const done = this.waiting.done;
      if (!this.signedIn && given.idToken && given.refreshToken && Number(given.expiresAt) > 0) {
        this.session = {
          idToken: String(given.idToken),
          accessToken: String(given.accessToken || ""),
          refreshToken: String(given.refreshToken),
          expiresAt: Number(given.expiresAt),
        };
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.session));
        this.schedule();
        this.emit();
      }
      done();
    } else if (message.type === "signout" && (this.session || this.challenge)) {
      this.clear();
    }
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  get signedIn() {
    return Boolean(this.session && this.session.idToken);
  }

  /** Who is signed in, from the ID token: {email, sub, groups}. */
  get user() {
    if (!this.signedIn) return null;
    const claims = decodeJwt(this.session.idToken);
    return {
      email: claims.email || claims["cognito:username"] || "",
      sub: claims.sub || "",
      groups: claims["cognito:groups"] || [],
    };
  }

  async call(action, body) {
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const type = String(data.__type || data.code || "").split("#").pop();
      throw new AuthError(type, friendlyMessage(type, data.message || data.Message, this.policy));
    }
    return data;
  }

  /** Start signing in. Resolves to null when signed in, or to the name of the next challenge. */
  async signIn(username, password) {
    const data = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.handle(data, username);
  }

  /** Answer NEW_PASSWORD_REQUIRED (invited users choose their own password). */
  async setNewPassword(newPassword) {
    const c = this.requireChallenge("NEW_PASSWORD_REQUIRED");
    const data = await this.call("RespondToAuthChallenge", {
      ChallengeName: c.name,
      ClientId: this.clientId,
      Session: c.session,
      ChallengeResponses: { USERNAME: c.username, NEW_PASSWORD: newPassword },
    });
    return this.handle(data, c.username);
  }

  /** Answer SOFTWARE_TOKEN_MFA with the six-digit code from the authenticator app. */
  async answerMfa(code) {
    const c = this.requireChallenge("SOFTWARE_TOKEN_MFA");
    const data = await this.call("RespondToAuthChallenge", {
      ChallengeName: c.name,
      ClientId: this.clientId,
      Session: c.session,
      ChallengeResponses: { USERNAME: c.username, SOFTWARE_TOKEN_MFA_CODE: code },
    });
    return this.handle(data, c.username);
  }

  /** MFA_SETUP: get the secret to enter into an authenticator app. */
  async beginMfaSetup() {
    const c = this.requireChallenge("MFA_SETUP");
    const data = await this.call("AssociateSoftwareToken", { Session: c.session });
    c.session = data.Session || c.session;
    return data.SecretCode;
  }

  /** MFA_SETUP: verify the first code, then finish signing in. */
  async finishMfaSetup(code) {
    const c = this.requireChallenge("MFA_SETUP");
    const verified = await this.call("VerifySoftwareToken", {
      Session: c.session,
      UserCode: code,
      FriendlyDeviceName: "DocuServe",
    });
    const data = await this.call("RespondToAuthChallenge", {
      ChallengeName: "MFA_SETUP",
      ClientId: this.clientId,
      Session: verified.Session || c.session,
      ChallengeResponses: { USERNAME: c.username },
    });
    return this.handle(data, c.username);
  }

  requireChallenge(name) {
    if (!this.challenge || this.challenge.name !== name) {
      throw new AuthError("NoChallenge", "The sign-in session has ended. Start again.");
    }
    return this.challenge;
  }

  handle(data, username) {
    if (data.AuthenticationResult) {
      this.challenge = null;
      this.store(data.AuthenticationResult);
      return null;
    }
    if (data.ChallengeName) {
      const parameters = data.ChallengeParameters || {};
      this.challenge = {
        name: data.ChallengeName,
        session: data.Session,
        username: parameters.USER_ID_FOR_SRP || username,
        parameters,
      };
      return data.ChallengeName;
    }
    throw new AuthError("Unexpected", "Cognito answered in a way this app does not understand.");
  }

  store(result, refreshToken) {
    const expiresIn = Number(result.ExpiresIn || 3600);
    const claims = decodeJwt(result.IdToken);
    const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + expiresIn * 1000;
    this.session = {
      idToken: result.IdToken,
      accessToken: result.AccessToken,
      refreshToken: result.RefreshToken || refreshToken || (this.session && this.session.refreshToken),
      expiresAt,
    };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.session));
    this.schedule();
    this.emit();
  }

  restore() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
      if (saved && saved.idToken && saved.refreshToken) {
        this.session = saved;
        this.schedule();
      }
    } catch {
      sessionStorage.removeItem(STORAGE_KEY);
    }
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.session) return;
    const wait = Math.max(0, this.session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    // Browsers cap timers at ~24.8 days; tokens live an hour, so the cap never bites.
    this.timer = setTimeout(() => {
      this.refresh().catch(() => this.clear());
    }, wait);
  }

  /** Exchange the refresh token for fresh ID and access tokens (one refresh at a time). */
  async refresh() {
    if (!this.session || !this.session.refreshToken) throw new AuthError("NoSession", "Please sign in.");
    if (!this.refreshing) {
      const refreshToken = this.session.refreshToken;
      this.refreshing = this.call("InitiateAuth", {
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: this.clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      })
        .then((data) => this.store(data.AuthenticationResult, refreshToken))
        .finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  /** A valid ID token for the API, refreshed first when it is about to expire. */
  async idToken() {
    if (!this.signedIn) throw new AuthError("NoSession", "Please sign in.");
    if (Date.now() > this.session.expiresAt - REFRESH_MARGIN_MS) {
      try {
        await this.refresh();
      } catch (error) {
        this.clear();
        throw new AuthError("SessionExpired", "Your session has ended. Please sign in again.");
      }
    }
    return this.session.idToken;
  }

  /** Sign out: revoke the refresh token (best effort) and forget every token in every tab. */
  async signOut() {
    const session = this.session;
    if (this.channel) this.channel.postMessage({ type: "signout" });
    this.clear();
    if (session && session.refreshToken) {
      try {
        await this.call("RevokeToken", { ClientId: this.clientId, Token: session.refreshToken });
      } catch {
        // The tokens are gone from this tab either way; an unrevoked refresh token expires on its own.
      }
    }
  }

  clear() {
    clearTimeout(this.timer);
    this.session = null;
    this.challenge = null;
    sessionStorage.removeItem(STORAGE_KEY);
    this.emit();
  }

  emit() {
    for (const listener of this.listeners) listener(this.signedIn);
  }
}
