// The DocuServe HTTP API: JSON in and out, `Authorization: Bearer <ID token>`, errors as
// {code, message, fields?, details?}.

export class ApiError extends Error {
  constructor(status, code, message, fields, details) {
    super(message || defaultMessage(status));
    this.name = "ApiError";
    this.status = status;
    this.code = code || "";
    this.fields = fields;
    this.details = details; // figures a client shows, e.g. {remaining_bytes} of a 413 quota_exceeded
  }
}

function defaultMessage(status) {
  if (status === 401) return "Your session has ended. Please sign in again.";
  if (status === 403) return "Your role does not allow that.";
  if (status === 404) return "Not found, or you do not have access to it.";
  if (status === 409) return "That conflicts with the current state. Reload and try again.";
  if (status === 413) return "That file is larger than this deployment allows.";
  if (status === 429) return "Too many requests. Wait a moment and try again.";
  if (status >= 500) return "The service had a problem. Try again in a moment.";
  return `The request failed (${status}).`;
}

/** Build a query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export class Api {
  constructor(config, auth) {
    this.base = String(config.api_url || "").replace(/\/+$/, "");
    this.auth = auth;
  }

  async request(method, path, body, { anonymous = false } = {}) {
    const send = async () => {
      const headers = { Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (!anonymous) headers.Authorization = `Bearer ${await this.auth.idToken()}`;
      return fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    };
    let response = await send();
    if (response.status === 401 && !anonymous && this.auth.signedIn) {
      // The token may have been revoked or expired early: refresh once, then give up.
      try {
        await this.auth.refresh();
        response = await send();
      } catch {
        this.auth.clear();
      }
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, data && data.code, data && data.message, data && data.fields, data && data.details);
    }
    return data;
  }

  get(path, params, options) {
    return this.request("GET", path + query(params), undefined, options);
  }

  post(path, body = {}, options) {
    return this.request("POST", path, body, options);
  }

  put(path, body = {}) {
    return this.request("PUT", path, body);
  }

  patch(path, body = {}) {
    return this.request("PATCH", path, body);
  }

  delete(path, params, options) {
    return this.request("DELETE", path + query(params), undefined, options);
  }

  /** Every item of a list route, following next_cursor up to `max` items. */
  async all(path, params = {}, max = 2000) {
    const items = [];
    let cursor;
    do {
      const page = await this.get(path, { ...params, limit: 200, cursor });
      items.push(...(page.items || []));
      cursor = page.next_cursor;
    } while (cursor && items.length < max);
    return { items, truncated: Boolean(cursor) };
  }
}

/** Path segment encoding for ids and emails. */
export const seg = (value) => encodeURIComponent(String(value));
