/**
 * The SQL that `make db-roles` runs as the master user (through the db-roles task): one PostgreSQL role
 * per service that uses the database, logging in with IAM tokens only, and what each may touch.
 *
 * Every statement may run again (after each release, after a restore): a role or schema is created only
 * when missing, the attributes and grants are set to what they must be, and GRANT/REVOKE of what is
 * already granted or revoked are no-ops. psql sends the whole text as one query, so PostgreSQL runs it in
 * one transaction: a failure leaves nothing half done.
 */

/** An unquoted PostgreSQL identifier that is not a reserved prefix: what the roles and their schemas are named. */
export const ROLE_NAME = /^(?!pg_|rds)[a-z_][a-z0-9_]{0,62}$/;

/** Why `role` cannot name a service's database role, or undefined when it can. */
export function roleNameProblem(role: string): string | undefined {
  if (ROLE_NAME.test(role)) return undefined;
  return `"${role}" is not a database role name this project uses: lower-case letters, digits and underscores, at most 63, starting with a letter or underscore, not pg_ or rds (reserved by PostgreSQL and RDS)`;
}

/** The statements for one service's role `r` (already checked): its login, IAM authentication, database and schema. */
function roleStatements(r: string): string[] {
  return [
    `-- ${r}: logs in with an IAM token (rds_iam), never a password; owns nothing outside its schema.`,
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${r}') THEN CREATE ROLE ${r} LOGIN; END IF; END $$;`,
    // Puts back what a hand edit may have changed. NOSUPERUSER, NOREPLICATION and NOBYPASSRLS are not
    // named: only a superuser may name them, and RDS's master user is not one (a new role has none of them).
    `ALTER ROLE ${r} WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT PASSWORD NULL;`,
    `GRANT rds_iam TO ${r};`,
    `DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${r}', current_database()); END $$;`,
    // The schema belongs to the master user (a non-superuser can only give a schema to a role it is a
    // member of, and the master must never be a member of an rds_iam role: it would then log in by IAM
    // only); the service creates, and so owns, the tables in it.
    `CREATE SCHEMA IF NOT EXISTS ${r};`,
    `REVOKE ALL ON SCHEMA ${r} FROM PUBLIC;`,
    `GRANT USAGE, CREATE ON SCHEMA ${r} TO ${r};`,
    `ALTER ROLE ${r} SET search_path = ${r};`,
  ];
}

/**
 * The whole script for `roles` (each checked with `roleNameProblem`, no duplicates). First what no role
 * gets by default any more: connecting to the database and creating in schema `public` (PUBLIC's defaults);
 * then each role.
 */
export function databaseRolesSql(roles: readonly string[]): string {
  const problems = roles.map(roleNameProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(`db-roles: ${problems.join("; ")}.`);
  const repeated = roles.filter((r, i) => roles.indexOf(r) !== i);
  if (repeated.length > 0) throw new Error(`db-roles: the roles ${[...new Set(repeated)].join(", ")} are given more than once; expected one role per service.`);
  if (roles.length === 0) throw new Error("db-roles: no role given; expected one per service that uses the database.");
  return [
    "-- AccessWeaver database roles (make db-roles). Safe to run again: it creates what is missing and sets grants.",
    "SET client_min_messages = warning;",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
    "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()); END $$;",
    ...roles.flatMap(roleStatements),
    // psql prints the last statement's result: what the task leaves, in its log.
    `SELECT r.rolname AS role, r.rolcanlogin AS can_login, pg_catalog.pg_has_role(r.rolname, 'rds_iam', 'MEMBER') AS iam_auth, n.nspname AS schema FROM pg_catalog.pg_roles r LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = r.rolname WHERE r.rolname IN (${roles.map((r) => `'${r}'`).join(", ")}) ORDER BY r.rolname;`,
  ].join("\n");
}
