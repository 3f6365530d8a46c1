// The lobby API (docs/protocol.md): JSON both ways, the session cookie for identity, the
// CSRF token from the page for writes. Failures throw ApiError with the server's code.

export class ApiError extends Error {
  constructor(status, code, reason) {
    super(reason);
    this.status = status;
    this.code = code;
  }
}

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function call(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", "the server cannot be reached");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON (a proxy's error page): fall through with the HTTP status
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.error ?? `http_${response.status}`,
      data?.reason ?? response.statusText);
  }
  return data;
}

export const api = {
  me: () => call("/api/me"),
  rename: (displayName) => call("/api/me", { method: "POST", body: { display_name: displayName } }),
  signup: (username, password) => call("/api/account/signup", { method: "POST", body: { username, password } }),
  login: (username, password) => call("/api/account/login", { method: "POST", body: { username, password } }),
  logout: () => call("/api/account/logout", { method: "POST" }),
  changePassword: (oldPassword, newPassword) =>
    call("/api/account/password", { method: "POST", body: { old_password: oldPassword, new_password: newPassword } }),
  matches: () => call("/api/matches"),
  match: (id) => call(`/api/matches/${encodeURIComponent(id)}`),
  create: (title, settings) => call("/api/matches", { method: "POST", body: { title, settings, join: true } }),
  join: (id) => call(`/api/matches/${encodeURIComponent(id)}/join`, { method: "POST" }),
  start: (id, fillWithBots) =>
    call(`/api/matches/${encodeURIComponent(id)}/start`, { method: "POST", body: { fill_with_bots: fillWithBots } }),
  rematch: (id) => call(`/api/matches/${encodeURIComponent(id)}/rematch`),
  answerRematch: (id, accept) =>
    call(`/api/matches/${encodeURIComponent(id)}/rematch`, { method: "POST", body: { accept } }),
  leave: (id) => call(`/api/matches/${encodeURIComponent(id)}/leave`, { method: "POST" }),
  quickplay: (title) => call("/api/quickplay", { method: "POST", body: { title } }),
  quickplayCancel: (title) => call("/api/quickplay/cancel", { method: "POST", body: { title } }),
  replay: (id, from, count) =>
    call(`/api/matches/${encodeURIComponent(id)}/replay?from=${from}&count=${count}`),
};
