import { randomUUID } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { TsmonError } from "../../common/errors.ts";
import type { Role } from "../auth/roles.ts";

/** A user of the API. Only the scrypt hash of the password is kept. */
export interface UserRecord {
  username: string;
  /** Random per user: a name deleted and created again is another user, and old sessions stay dead. */
  user_id: string;
  role: Role;
  password_hash: string;
  /** Bumped by every password change: session tokens carrying an older version are refused. */
  token_version: number;
  created_at: number;
  updated_at: number;
}

/**
 * Users in the control store. Every process and PM2 instance reads the same LMDB, so a
 * password change (a bumped token_version) revokes old sessions everywhere at once.
 */
export class UserStore {
  private readonly users: Database<UserRecord, string>;

  constructor(private readonly env: RootDatabase) {
    this.users = env.openDB<UserRecord, string>({ name: "users" });
    this.giveEveryUserAnId();
  }

  /**
   * Users stored before user_id existed get one, once: sessions carry it, and a session of a
   * user without one would be refused at every request.
   */
  private giveEveryUserAnId(): void {
    // Read again inside the transaction: another thread may have given them ids meanwhile.
    const lacking = () => [...this.users.getRange({})].map(({ value }) => value).filter((u) => !u.user_id);
    if (lacking().length === 0) return;
    this.env.transactionSync(() => {
      for (const user of lacking()) this.users.put(user.username, { ...user, user_id: randomUUID() });
    });
  }

  /** The user as committed now, not as this thread's read snapshot last saw it. */
  fresh(username: string): UserRecord | undefined {
    this.env.resetReadTxn();
    return this.users.get(username);
  }

  list(): UserRecord[] {
    this.env.resetReadTxn();
    return [...this.users.getRange({})].map(({ value }) => value);
  }

  /** Creates the first admin if there are no users yet; true when this call created it. */
  async createFirst(user: UserRecord): Promise<boolean> {
    let created = false;
    await this.users.transaction(() => {
      if ([...this.users.getKeys({ limit: 1 })].length === 0) {
        this.users.put(user.username, user);
        created = true;
      }
    });
    return created;
  }

  async create(user: UserRecord): Promise<void> {
    let exists = false;
    await this.users.transaction(() => {
      exists = this.users.get(user.username) !== undefined;
      if (!exists) this.users.put(user.username, user);
    });
    if (exists) throw new TsmonError("ALREADY_EXISTS", `user '${user.username}' exists; change it with PUT /v1/users/${user.username}`);
  }

  /**
   * Changes a user in one transaction. A new password hash bumps token_version. Refuses
   * to leave the server without an admin.
   */
  async update(username: string, change: { role?: Role; password_hash?: string }, nowMs = Date.now()): Promise<UserRecord> {
    let next: UserRecord | undefined;
    await this.users.transaction(() => {
      const user = this.required(username);
      if (change.role && change.role !== "admin" && user.role === "admin") this.keepAnAdmin(username, "demote");
      next = {
        ...user,
        role: change.role ?? user.role,
        password_hash: change.password_hash ?? user.password_hash,
        token_version: change.password_hash ? user.token_version + 1 : user.token_version,
        updated_at: nowMs,
      };
      this.users.put(username, next);
    });
    return next!;
  }

  async remove(username: string): Promise<void> {
    await this.users.transaction(() => {
      const user = this.required(username);
      if (user.role === "admin") this.keepAnAdmin(username, "delete");
      this.users.remove(username);
    });
  }

  private required(username: string): UserRecord {
    const user = this.users.get(username);
    if (!user) throw new TsmonError("NOT_FOUND", `no user '${username}'`);
    return user;
  }

  private keepAnAdmin(username: string, verb: string): void {
    const admins = this.list().filter((u) => u.role === "admin" && u.username !== username);
    if (admins.length === 0) throw new TsmonError("ALREADY_EXISTS", `cannot ${verb} '${username}': it is the only admin; make another user admin first`);
  }
}
