// The db-roles task of the services phase on the JSON of whole-environment synths: a hardened one-off
// psql task that reads only the master password, and the SQL it runs (idempotent, least privilege).
import { DATABASE_SERVICES } from "../src/config/services";
import { PROFILES } from "../src/config/profiles";
import { DB_CLIENT_IMAGE, DB_CLIENT_USER } from "../src/constructs/db-roles";
import { databaseRolesSql, roleNameProblem } from "../src/constructs/db-roles-sql";
import { ENVIRONMENTS, EnvironmentName, names } from "../src/naming";
import { taskRoleNoWildcardData } from "../src/policy/compute-rules";
import { evaluate, viewOf } from "../src/policy/guardrails";
import { BASELINE_RULES } from "../src/policy/rules";
import { StackJson, config, resources, synthEnv } from "./support/config";

const REMOTE = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const MASTER = REMOTE("database", "database_master_secret_arn");
const synthesized = Object.fromEntries(ENVIRONMENTS.map((env) => [env, synthEnv(config(env)).json.services!])) as Record<EnvironmentName, StackJson>;

const containerOf = (json: StackJson): any => JSON.parse(resources(json, "aws_ecs_task_definition")["db-roles_task-definition"].container_definitions)[0];
const rolesOf = (env: EnvironmentName) => DATABASE_SERVICES.map((s) => names(env).databaseRole(s.name));

describe.each(ENVIRONMENTS)("%s: the db-roles task", (env) => {
  const json = synthesized[env];
  const profile = PROFILES[env];
  const td = resources(json, "aws_ecs_task_definition")["db-roles_task-definition"];
  const c = containerOf(json);

  it("is a task definition of its own family with no ECS service: it runs only when make db-roles starts it", () => {
    expect(td).toEqual(
      expect.objectContaining({
        family: `accessweaver-${env}-db-roles`,
        cpu: "256",
        memory: "512",
        network_mode: "awsvpc",
        requires_compatibilities: ["FARGATE"],
        execution_role_arn: "${aws_iam_role.db-roles_execution-role_role.arn}",
        task_role_arn: "${aws_iam_role.db-roles_task-role.arn}",
      }),
    );
    const services = Object.values(resources(json, "aws_ecs_service")) as { task_definition: string }[];
    expect(services.map((s) => s.task_definition)).not.toContain("${aws_ecs_task_definition.db-roles_task-definition.arn}");
  });

  it("runs a hardened container: read-only root filesystem, the image's non-root user, no capability, not privileged, logs to its own group", () => {
    expect(c).toEqual(expect.objectContaining({ name: "db-roles", essential: true, readonlyRootFilesystem: true, privileged: false, user: DB_CLIENT_USER }));
    expect(Number(c.user)).toBeGreaterThan(0);
    expect(c.linuxParameters.capabilities).toEqual({ add: [], drop: ["ALL"] });
    expect(c.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: { "awslogs-group": `/ecs/accessweaver-${env}/db-roles`, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs" },
    });
    // The pinned client image, from the environment's own registry (reachable through the VPC endpoints).
    expect(c.image).toBe(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/${DB_CLIENT_IMAGE.repository}:${DB_CLIENT_IMAGE.tag}`);
    expect(DB_CLIENT_IMAGE.tag).not.toMatch(/^(latest|\d+|\d+-alpine)$/);
  });

  it("runs psql once with the role script, as the master user, TLS required, the password from RDS's secret only", () => {
    expect(c.entryPoint).toEqual(["psql"]);
    expect(c.command).toEqual(["--no-psqlrc", "--set=ON_ERROR_STOP=1", "--command", databaseRolesSql(rolesOf(env))]);
    expect(Object.fromEntries(c.environment.map((e: { name: string; value: string }) => [e.name, e.value]))).toEqual({
      PGHOST: REMOTE("database", "database_endpoint"),
      PGPORT: REMOTE("database", "database_port"),
      PGDATABASE: REMOTE("database", "database_name"),
      PGUSER: REMOTE("database", "database_master_username"),
      PGSSLMODE: "require",
      PGCONNECT_TIMEOUT: "15",
      PGAPPNAME: "db-roles",
    });
    expect(c.secrets).toEqual([{ name: "PGPASSWORD", valueFrom: `${MASTER}:password::` }]);
  });

  it("lets its execution role pull only the client image, write only its log group and read only the master password's secret; its task role has no policy", () => {
    const statements = json.data.aws_iam_policy_document["db-roles_execution-role_permissions"].statement;
    const bySid = Object.fromEntries(statements.map((st: { sid: string }) => [st.sid, st]));
    expect(Object.keys(bySid).sort()).toEqual(["DecryptOwnSecrets", "EcrToken", "PullOwnImage", "ReadOwnSecrets", "WriteOwnLogs"]);
    expect(bySid.PullOwnImage.resources).toEqual([`arn:aws:ecr:eu-west-1:111122223333:repository/${DB_CLIENT_IMAGE.repository}`]);
    expect(bySid.WriteOwnLogs.resources).toEqual(["${aws_cloudwatch_log_group.db-roles_logs_log-group.arn}:log-stream:*"]);
    expect(bySid.ReadOwnSecrets.resources).toEqual([MASTER]);
    expect(bySid.DecryptOwnSecrets.condition).toEqual([
      { test: "StringEquals", variable: "kms:ViaService", values: ["secretsmanager.eu-west-1.amazonaws.com"] },
    ]);
    const roles = resources(json, "aws_iam_role");
    expect([roles["db-roles_execution-role_role"].name, roles["db-roles_task-role"].name]).toEqual([
      `accessweaver-${env}-db-roles-execution`,
      `accessweaver-${env}-db-roles-task`,
    ]);
    const onTaskRole = Object.values(resources(json, "aws_iam_role_policy")).filter(
      (p) => (p as { role: string }).role === "${aws_iam_role.db-roles_task-role.id}",
    );
    expect(onTaskRole).toEqual([]);
    expect(resources(json, "aws_iam_role_policy_attachment")["db-roles_task-role"]).toBeUndefined();
  });

  it("keeps its log group encrypted with the environment's key, for the profile's retention, protected where the profile protects data", () => {
    const lg = resources(json, "aws_cloudwatch_log_group")["db-roles_logs_log-group"];
    expect(lg).toEqual(
      expect.objectContaining({
        name: `/ecs/accessweaver-${env}/db-roles`,
        kms_key_id: REMOTE("network", "kms_key_arn"),
        retention_in_days: profile.applicationLogRetentionDays,
      }),
    );
    expect(lg.tags).toEqual({ LogClass: "application" });
    expect(lg.lifecycle?.prevent_destroy ?? false).toBe(profile.preventDestroy);
  });

  it("passes the baseline guardrails with the rest of the services phase", () => {
    expect(evaluate(viewOf(`accessweaver-${env}-services`, json), BASELINE_RULES)).toEqual([]);
  });
});

describe("the role script", () => {
  const roles = rolesOf("prod");
  const sql = databaseRolesSql(roles);
  const statements = sql.split("\n").filter((l) => !l.startsWith("--"));

  it("creates one role per database service, never the gateway", () => {
    expect(roles).toEqual(["aw_pdp", "aw_pap", "aw_tenant", "aw_audit"]);
    for (const r of roles) expect(sql).toContain(`CREATE ROLE ${r} LOGIN;`);
    expect(sql).not.toMatch(/gateway/);
  });

  it("can run again: every CREATE is guarded, nothing is dropped, and it is one query (one transaction)", () => {
    const creates = statements.filter((l) => /\bCREATE\s+(ROLE|SCHEMA|USER|TABLE|DATABASE)\b/i.test(l));
    expect(creates.length).toBe(roles.length * 2);
    for (const l of creates) expect([l, /IF NOT EXISTS/.test(l)]).toEqual([l, true]);
    expect(sql).not.toMatch(/\bDROP\b|\bTRUNCATE\b|\bDELETE\b|\bBEGIN\s*;|\bCOMMIT\b/i);
    // Each DO block is closed on its own line: no statement runs outside what the script lists.
    for (const l of statements.filter((x) => x.startsWith("DO "))) expect(l).toMatch(/^DO \$\$ .* \$\$;$/);
  });

  it("gives each role IAM login only, CONNECT, its own schema and nothing on another's; revokes PUBLIC's defaults", () => {
    expect(statements.slice(0, 3)).toEqual([
      "SET client_min_messages = warning;",
      "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
      "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()); END $$;",
    ]);
    for (const r of roles) {
      const own = statements.filter((l) => new RegExp(`\\b${r}\\b`).test(l) && !l.startsWith("SELECT"));
      // What the role is: created only where missing, a login without password, IAM authentication.
      expect(own.filter((l) => /CREATE ROLE/.test(l))).toEqual([
        expect.stringMatching(new RegExp(`IF NOT EXISTS \\(SELECT 1 FROM pg_catalog\\.pg_roles WHERE rolname = '${r}'\\) THEN CREATE ROLE ${r} LOGIN;`)),
      ]);
      expect(own.filter((l) => /^ALTER ROLE .* WITH /.test(l))).toEqual([expect.stringMatching(/ LOGIN NOCREATEDB NOCREATEROLE .*PASSWORD NULL;$/)]);
      // What it may do: every grant naming it, and nothing else (CONNECT, rds_iam, its own schema).
      const grants = own.filter((l) => /\bGRANT\b/.test(l) && !/\bREVOKE\b/.test(l));
      expect(grants.map((l) => l.replace(/^DO .*format\('(.*)', current_database\(\)\).*$/, "$1"))).toEqual([
        `GRANT rds_iam TO ${r};`,
        `GRANT CONNECT ON DATABASE %I TO ${r}`,
        `GRANT USAGE, CREATE ON SCHEMA ${r} TO ${r};`,
      ]);
      // Its schema exists (created only where missing) and PUBLIC has nothing on it.
      expect(own).toEqual(expect.arrayContaining([`CREATE SCHEMA IF NOT EXISTS ${r};`, `REVOKE ALL ON SCHEMA ${r} FROM PUBLIC;`]));
    }
    // No grant on a schema to another role, no role granted to the master user (it would inherit rds_iam
    // and could then log in by IAM only), no superuser-ish attribute.
    for (const l of statements.filter((x) => /^GRANT .* ON SCHEMA/.test(x))) {
      const [, schema, grantee] = /ON SCHEMA (\w+) TO (\w+);$/.exec(l)!;
      expect(grantee).toBe(schema);
    }
    expect(sql).not.toMatch(/TO (CURRENT_USER|SESSION_USER|accessweaver_admin)\b|\bSUPERUSER\b|\bBYPASSRLS\b|\bPASSWORD '/i);
  });

  it("holds no Terraform interpolation, so the JSON carries it as written", () => {
    expect(sql).not.toMatch(/\$\{|%\{/);
  });

  it("refuses role names it could not use unquoted, reserved prefixes, duplicates and an empty list", () => {
    for (const bad of ["aw-pdp", "AW_PDP", "pg_app", "rdsadmin", "1app", `a${"b".repeat(63)}`, "aw_pdp; DROP ROLE x"])
      expect([bad, roleNameProblem(bad)]).toEqual([bad, expect.stringContaining(`"${bad}"`)]);
    expect(roleNameProblem("aw_pdp")).toBeUndefined();
    expect(() => databaseRolesSql(["aw_pdp", "Bad"])).toThrow('db-roles: "Bad" is not a database role name');
    expect(() => databaseRolesSql(["aw_pdp", "aw_pdp"])).toThrow("db-roles: the roles aw_pdp are given more than once");
    expect(() => databaseRolesSql([])).toThrow("db-roles: no role given");
  });
});

describe("ecs-task-role-scoped and rds-db:connect", () => {
  const json = synthesized.prod;
  const withResource = (resource: string) => {
    const tampered = JSON.parse(JSON.stringify(json));
    tampered.data.aws_iam_policy_document["aw-pdp-service_task-permissions"].statement[0].resources = [resource];
    return evaluate(viewOf("accessweaver-prod-services", tampered), [taskRoleNoWildcardData]).map((v) => `${v.address}: ${v.message}`);
  };

  it("accepts each service's own dbuser, and refuses a task role that may log in as any user of any instance", () => {
    expect(withResource("arn:aws:rds-db:eu-west-1:111122223333:dbuser:db-ABCDEFGHIJKL/aw_pdp")).toEqual([]);
    for (const wide of ["*", "arn:aws:rds-db:eu-west-1:111122223333:dbuser:*/*", "arn:aws:rds-db:*:*:dbuser:*"]) {
      expect(withResource(wide)).toEqual([
        `aws_iam_role_policy.aw-pdp-service_task-role-policy: allows rds-db:connect on ${JSON.stringify(wide)}: name the resources`,
      ]);
    }
  });
});
