/*
 * The REST client: every call carries the session token; a failure throws ApiError with
 * the API's own message (shown to the user as written). A 401 ends the session.
 */
const TOKEN_KEY = "tsmon.session";

export interface Session { token: string; username: string; role: Role }
export type Role = "viewer" | "operator" | "admin";

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
  }
}

type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null = readStored();

function readStored(): Session | null {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function session(): Session | null {
  return current;
}

export function onSession(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setSession(s: Session | null): void {
  current = s;
  if (s) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const fn of listeners) fn(s);
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** True when the signed-in user's role is at least `role` (the server checks again). */
export function can(role: Role): boolean {
  return current !== null && RANK[current.role] >= RANK[role];
}

export async function login(username: string, password: string): Promise<void> {
  const body = await request<{ token: string; username: string; role: Role }>("/v1/auth/login", { method: "POST", body: { username, password } }, false);
  setSession({ token: body.token, username: body.username, role: body.role });
}

interface RequestOptions { method?: string; body?: unknown; signal?: AbortSignal }

async function request<T>(path: string, options: RequestOptions, withToken: boolean): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (withToken && current) headers.authorization = `Bearer ${current.token}`;
  let res: Response;
  try {
    res = await fetch(path, { method: options.method ?? "GET", headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: options.signal });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, `the server did not answer (${(err as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: the status line says enough */
  }
  if (!res.ok) {
    const err = parsed as { error?: string; code?: string } | undefined;
    if (res.status === 401 && withToken) setSession(null);
    throw new ApiError(res.status, err?.error ?? `${res.status} ${res.statusText}`, err?.code);
  }
  return parsed as T;
}

/** A call as the signed-in user. */
export function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return request<T>(path, options, true);
}

/** Query string from defined values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString();
}
