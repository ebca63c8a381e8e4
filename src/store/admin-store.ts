import { IpwardError } from "../core/errors.ts";
import { openMigratedDatabase, StatementCache } from "./connection.ts";
import type { SqlDatabase } from "./sql-database.ts";
import type { SqlDriver } from "./sqlite-store.ts";

/** An admin account as stored; `password_hash` is a PHC string (argon2id). */
export interface AdminUser {
  id: number;
  username: string;
  password_hash: string;
  created_at: number;
}

/** A live sign-in session; `id` is the SHA-256 of the cookie value, never the value itself. */
export interface AdminSession {
  id: string;
  user_id: number;
  username: string;
  csrf: string;
  created_at: number;
  expires_at: number;
}

/** An API token as listed: the secret is not stored, only its SHA-256. */
export interface ApiTokenRecord {
  id: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

const COUNT_USERS = "SELECT count(*) AS n FROM admin_user";
const USER_BY_NAME = "SELECT id, username, password_hash, created_at FROM admin_user WHERE username = ?";
const LIST_USERS = "SELECT id, username, created_at FROM admin_user ORDER BY id";
const INSERT_USER = `INSERT INTO admin_user (username, password_hash, created_at) VALUES (?, ?, ?)
  ON CONFLICT (username) DO NOTHING RETURNING id, username, password_hash, created_at`;
const SET_PASSWORD = "UPDATE admin_user SET password_hash = ? WHERE username = ? RETURNING id";

const INSERT_SESSION = "INSERT INTO admin_session (id, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
const LIVE_SESSION = `SELECT s.id, s.user_id, u.username, s.csrf, s.created_at, s.expires_at
  FROM admin_session s JOIN admin_user u ON u.id = s.user_id WHERE s.id = ? AND s.expires_at > ?`;
const EXTEND_SESSION = "UPDATE admin_session SET expires_at = ? WHERE id = ?";
const DELETE_SESSION = "DELETE FROM admin_session WHERE id = ?";
const DELETE_EXPIRED_SESSIONS = "DELETE FROM admin_session WHERE expires_at <= ?";
const DELETE_USER_SESSIONS = "DELETE FROM admin_session WHERE user_id = ?";

const TOKEN_COLUMNS = "id, name, created_at, last_used_at";
const INSERT_TOKEN = `INSERT INTO api_token (name, token_hash, created_at) VALUES (?, ?, ?) RETURNING ${TOKEN_COLUMNS}`;
const LIST_TOKENS = `SELECT ${TOKEN_COLUMNS} FROM api_token ORDER BY id`;
const TOKEN_BY_HASH = `SELECT ${TOKEN_COLUMNS} FROM api_token WHERE token_hash = ?`;
const TOUCH_TOKEN = "UPDATE api_token SET last_used_at = ? WHERE id = ?";
const DELETE_TOKEN = "DELETE FROM api_token WHERE id = ?";

/** Admin accounts, sign-in sessions and API tokens over one SQLite connection. */
export class AdminStore {
  private readonly statements: StatementCache;

  constructor(private readonly db: SqlDatabase) {
    this.statements = new StatementCache(db);
  }

  countUsers(): number {
    return this.statements.get(COUNT_USERS).get<{ n: number }>()?.n ?? 0;
  }

  findUser(username: string): AdminUser | null {
    return this.statements.get(USER_BY_NAME).get<AdminUser>(username) ?? null;
  }

  listUsers(): Omit<AdminUser, "password_hash">[] {
    return this.statements.get(LIST_USERS).all<Omit<AdminUser, "password_hash">>();
  }

  /** Creates an account; a "conflict" when the username is taken. */
  createUser(username: string, passwordHash: string, now: number): AdminUser {
    const user = this.statements.get(INSERT_USER).get<AdminUser>(username, passwordHash, now);
    if (!user) throw new IpwardError("conflict", `admin user "${username}" already exists`, { username });
    return user;
  }

  /** Replaces a password and ends every session of the account; "not_found" for an unknown user. */
  setPassword(username: string, passwordHash: string): void {
    this.db.transaction(() => {
      const user = this.statements.get(SET_PASSWORD).get<{ id: number }>(passwordHash, username);
      if (!user) throw new IpwardError("not_found", `no admin user "${username}"`, { username });
      this.statements.get(DELETE_USER_SESSIONS).run(user.id);
    });
  }

  createSession(session: Omit<AdminSession, "username">): void {
    this.statements.get(INSERT_SESSION).run(session.id, session.user_id, session.csrf, session.created_at, session.expires_at);
  }

  /** The session with this id if it has not expired at `now`. */
  liveSession(id: string, now: number): AdminSession | null {
    return this.statements.get(LIVE_SESSION).get<AdminSession>(id, now) ?? null;
  }

  extendSession(id: string, expiresAt: number): void {
    this.statements.get(EXTEND_SESSION).run(expiresAt, id);
  }

  deleteSession(id: string): void {
    this.statements.get(DELETE_SESSION).run(id);
  }

  /** Removes sessions that expired at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): number {
    return this.statements.get(DELETE_EXPIRED_SESSIONS).run(now).changes;
  }

  createToken(name: string, tokenHash: string, now: number): ApiTokenRecord {
    const token = this.statements.get(INSERT_TOKEN).get<ApiTokenRecord>(name, tokenHash, now);
    if (!token) throw new IpwardError("internal", `API token "${name}" was not stored`);
    return token;
  }

  listTokens(): ApiTokenRecord[] {
    return this.statements.get(LIST_TOKENS).all<ApiTokenRecord>();
  }

  findToken(tokenHash: string): ApiTokenRecord | null {
    return this.statements.get(TOKEN_BY_HASH).get<ApiTokenRecord>(tokenHash) ?? null;
  }

  touchToken(id: number, now: number): void {
    this.statements.get(TOUCH_TOKEN).run(now, id);
  }

  /** Revokes a token; false when there is none with this id. */
  deleteToken(id: number): boolean {
    return this.statements.get(DELETE_TOKEN).run(id).changes > 0;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}

/** Opens the admin store on its own connection to the database file. */
export function openAdminStore(path: string, options: { driver: SqlDriver }): AdminStore {
  return new AdminStore(openMigratedDatabase(path, options.driver));
}
