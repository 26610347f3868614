/** Roles in increasing power: each may do everything the ones before it may. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who is calling, as established by the authenticator for one request. */
export type Identity =
  | { kind: "user"; username: string; userId: string; role: Role }
  | { kind: "api_token"; tokenId: string; name: string; role: Role };

export function describeIdentity(who: Identity): string {
  return who.kind === "user" ? `user '${who.username}'` : `API token '${who.name}' (${who.tokenId})`;
}
