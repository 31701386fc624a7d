// The guide's `$(terraform output waf_web_acl_arn)`: `make output` finds the output in the loadbalancer
// phase and prints it raw, with recording stand-ins for terraform (no AWS, no real state).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { makeStandins } from "./support/standins";
import { ROOT, tempDir } from "./support/config";

const ARN = "arn:aws:wafv2:eu-west-1:444455556666:regional/webacl/accessweaver-prod-waf/0f0e0d0c";

it("make output ENV=prod NAME=waf_web_acl_arn prints the web ACL's ARN raw, from the loadbalancer stack", () => {
  const s = makeStandins(["terraform"]);
  try {
    const root = tempDir("aw-settings-");
    const example = fs.readFileSync(path.join(ROOT, "environments/prod/terraform.tfvars.example"), "utf8");
    fs.mkdirSync(path.join(root, "environments/prod"), { recursive: true });
    fs.writeFileSync(path.join(root, "environments/prod/terraform.tfvars.example"), example);
    fs.writeFileSync(
      path.join(root, "environments/prod/terraform.tfvars"),
      example
        .replace(/123456789012/g, "444455556666")
        .replace("Z0123456789EXAMPLE", "Z04455667788ABCDEF")
        .replace(/example\.com/g, "accessweaver.com")
        .replace("CC-EXAMPLE", "CC-1042")
        .replace("integration/00000000000000000000000000000000/", "integration/a1b2c3d4e5f60718293a4b5c6d7e8f90/"),
    );
    const out = path.join(tempDir("aw-out-"), "cdktf.out");
    const stack = `${out}/stacks/accessweaver-prod-loadbalancer`;
    // Already initialized, as after `make init ENV=prod`: only the value reaches stdout.
    fs.mkdirSync(path.join(stack, ".terraform"), { recursive: true });
    fs.mkdirSync(path.join(s.stateDir, "terraform/outputs/accessweaver-prod-loadbalancer"), { recursive: true });
    fs.writeFileSync(path.join(s.stateDir, "terraform/outputs/accessweaver-prod-loadbalancer/waf_web_acl_arn"), ARN);
    const r = spawnSync("make", ["-s", "-C", ROOT, "output", "ENV=prod", "NAME=waf_web_acl_arn", `OUTDIR=${out}`], {
      env: { ...s.env, ACCESSWEAVER_SETTINGS_ROOT: root },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${ARN}\n`);
    expect(s.log()).toEqual([`terraform -chdir=${stack} output -raw waf_web_acl_arn`]);
    // Not initialized yet: the init it needs first prints on stderr, and stdout still holds the value alone.
    fs.rmSync(path.join(stack, ".terraform"), { recursive: true });
    const fresh = spawnSync("make", ["-s", "-C", ROOT, "output", "ENV=prod", "NAME=waf_web_acl_arn", `OUTDIR=${out}`], {
      env: { ...s.env, ACCESSWEAVER_SETTINGS_ROOT: root },
      encoding: "utf8",
    });
    expect(fresh.status).toBe(0);
    expect(fresh.stdout).toBe(`${ARN}\n`);
    expect(fresh.stderr).toContain("Terraform has been successfully initialized!");
  } finally {
    s.cleanup();
  }
});
