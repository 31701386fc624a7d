import { evaluate, viewOf } from "../src/policy/guardrails";
import { STATEFUL_TYPES, dataProtected } from "../src/policy/data-protection";
import { BASELINE_RULES } from "../src/policy/rules";

/** A synthesized stack's JSON holding one resource of each given type, as `config` sets it. */
const stack = (name: string, resources: Record<string, Record<string, unknown>>) =>
  viewOf(name, { resource: Object.fromEntries(Object.entries(resources).map(([type, config]) => [type, { it: config }])) });
const kept = { lifecycle: { prevent_destroy: true } };

describe("data-prevent-destroy", () => {
  it("rejects a data-holding resource without prevent_destroy in staging and prod, naming it and the fix", () => {
    for (const env of ["staging", "prod"]) {
      const violations = evaluate(
        stack(`accessweaver-${env}-database`, {
          aws_db_instance: {},
          aws_s3_bucket: { lifecycle: { prevent_destroy: false } },
          aws_secretsmanager_secret: kept,
        }),
        [dataProtected],
      );
      expect(violations).toEqual(
        ["aws_db_instance.it", "aws_s3_bucket.it"].map((address) => ({
          rule: "data-prevent-destroy",
          address,
          message: `holds data but has no lifecycle.prevent_destroy = true: in ${env} a plan could destroy it; set lifecycle: { preventDestroy: true } on it`,
        })),
      );
    }
  });

  it("accepts every data-holding type with prevent_destroy, other types without it, and dev as it is", () => {
    const all = Object.fromEntries(STATEFUL_TYPES.map((t) => [t, kept]));
    expect(evaluate(stack("accessweaver-prod-cache", { ...all, aws_subnet: {} }), [dataProtected])).toEqual([]);
    expect(evaluate(stack("accessweaver-dev-database", { aws_db_instance: {}, aws_kms_key: {} }), [dataProtected])).toEqual([]);
  });

  it("is part of the baseline every stack is checked against", () => {
    expect(BASELINE_RULES).toContain(dataProtected);
  });
});
