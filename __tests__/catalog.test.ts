// The service catalog, and the sizing profiles that read it.
import { CATALOG, APP_PORT, DATABASE_SERVICES, SERVICE_CATALOG } from "../src/config/services";
import { roleNameProblem } from "../src/constructs/db-roles-sql";
import { PROFILES } from "../src/config/profiles";
import { ENVIRONMENTS, SECRET_KINDS, SERVICES, names } from "../src/naming";
import { config, resources, synthEnv } from "./support/config";

/** Fargate's CPU / memory pairs (MiB) for Linux tasks. */
function fargateAccepts(cpu: number, memory: number): boolean {
  const gb = memory / 1024;
  switch (cpu) {
    case 256:
      return [0.5, 1, 2].includes(gb);
    case 512:
      return Number.isInteger(gb) && gb >= 1 && gb <= 4;
    case 1024:
      return Number.isInteger(gb) && gb >= 2 && gb <= 8;
    case 2048:
      return Number.isInteger(gb) && gb >= 4 && gb <= 16;
    case 4096:
      return Number.isInteger(gb) && gb >= 8 && gb <= 30;
    default:
      return false;
  }
}

describe("the service catalog", () => {
  it("describes the five services, each on port 8080 with the actuator health path", () => {
    expect(CATALOG.map((s) => s.name)).toEqual([...SERVICES]);
    for (const s of CATALOG) {
      expect(s.port).toBe(8080);
      expect(s.healthPath).toBe("/actuator/health");
    }
  });

  it("routes the internet to the API gateway only; the others are internal", () => {
    expect(CATALOG.filter((s) => s.exposure === "alb").map((s) => s.name)).toEqual(["aw-api-gateway"]);
  });

  it("gives each service only known secrets, each one explained", () => {
    for (const s of CATALOG) {
      expect(s.secrets.length).toBeGreaterThan(0);
      for (const secret of s.secrets) {
        expect(SECRET_KINDS).toContain(secret);
        expect(s.why).toContain(`(${secret})`);
      }
    }
    // The public gateway holds no database credentials; only it verifies tokens.
    expect(SERVICE_CATALOG["aw-api-gateway"].secrets).not.toContain("database");
    expect(CATALOG.filter((s) => s.secrets.includes("jwt")).map((s) => s.name)).toEqual(["aw-api-gateway"]);
  });

  it("gives each service that uses the database a PostgreSQL role of its own, one the role script accepts", () => {
    // Exactly the services whose secrets include the database; the gateway has none.
    expect(DATABASE_SERVICES.map((s) => s.name)).toEqual(CATALOG.filter((s) => s.secrets.includes("database")).map((s) => s.name));
    expect(DATABASE_SERVICES.map((s) => s.name)).not.toContain("aw-api-gateway");
    for (const env of ENVIRONMENTS) {
      const roles = DATABASE_SERVICES.map((s) => names(env).databaseRole(s.name));
      expect(new Set(roles).size).toBe(roles.length);
      expect(roles.map(roleNameProblem)).toEqual(roles.map(() => undefined));
    }
    expect(names("prod").databaseRole("aw-pdp-service")).toBe("aw_pdp");
  });

  it("holds the guide's production sizes, which the prod profile uses as they are", () => {
    const guide = {
      "aw-api-gateway": [3, 1024, 2048],
      "aw-pdp-service": [3, 2048, 4096],
      "aw-pap-service": [2, 1024, 2048],
      "aw-tenant-service": [2, 512, 1024],
      "aw-audit-service": [2, 512, 1024],
    };
    for (const [name, [count, cpu, memory]] of Object.entries(guide)) {
      expect(PROFILES.prod.services[name as keyof typeof guide]).toEqual({ cpu, memory, desiredCount: count });
    }
  });

  it("staging keeps prod's task sizes with one task fewer (at least one); dev runs one task of each", () => {
    for (const s of CATALOG) {
      const staging = PROFILES.staging.services[s.name];
      expect([staging.cpu, staging.memory]).toEqual([s.production.cpu, s.production.memory]);
      expect(staging.desiredCount).toBe(Math.max(1, s.production.desiredCount - 1));
      expect(PROFILES.dev.services[s.name].desiredCount).toBe(1);
    }
  });

  it("sizes every task of every environment as Fargate accepts", () => {
    for (const env of ENVIRONMENTS) {
      for (const [name, size] of Object.entries(PROFILES[env].services)) expect([env, name, fargateAccepts(size.cpu, size.memory)]).toEqual([env, name, true]);
    }
  });

  it("is where the network opens the app port: ALB to services and service to service on the catalog's port", () => {
    const rules = Object.values(resources(synthEnv(config("prod")).json.network, "aws_vpc_security_group_ingress_rule"));
    const app = rules.filter((r) => r.description === "ALB to services" || r.description === "Service to service");
    expect(app).toHaveLength(2);
    for (const r of app) expect([r.from_port, r.to_port]).toEqual([APP_PORT, APP_PORT]);
  });
});
