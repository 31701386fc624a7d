/**
 * The AWS API emulator: `EMULATOR_URL` when set (LocalStack, a moto server you run), otherwise a
 * `moto_server` of our own on a free loopback port, stopped at the end. And the account's
 * prerequisites that a deployment finds already made (the state bucket, the lock table, the hosted
 * zone), created in the emulator with plain API calls.
 */
import { ChildProcess, spawn } from "child_process";
import * as net from "net";

/** moto's settings for the gaps the allow-list handles by configuration (names from moto 5.2.1's settings.py). */
export function motoEnvironment(account: string, settings: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(AWS_|MOTO_)/.test(key)) env[key] = value;
  // Every request answers as the settings' account, so ARNs and the providers' account lock match.
  return { ...env, MOTO_ACCOUNT_ID: account, ...settings };
}

export interface RunningEmulator {
  readonly url: string;
  /** Ours to stop (undefined when EMULATOR_URL named one). */
  readonly child?: ChildProcess;
  /** What the emulator printed, for the report when it fails to start. */
  log(): string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 now (the emulator binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts `moto_server` on 127.0.0.1 only, and waits until it answers. */
export async function startMoto(bin: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RunningEmulator> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Its own process group: stopping it stops whatever the launcher (a pyenv shim, ...) started.
  const child = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString("utf8")).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString("utf8")).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  let startError: NodeJS.ErrnoException | undefined;
  child.on("error", (e: NodeJS.ErrnoException) => (startError = e));
  const running: RunningEmulator = {
    url,
    child,
    log: () => output,
    stop: async () => {
      if (gone || child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (startError) throw Object.assign(new Error(`${bin} could not be started: ${startError.message}`), { code: startError.code });
    if (gone) throw new Error(`${bin} exited before answering on ${url}:\n${output.trim()}`);
    if (await answers(url)) return running;
    await new Promise((r) => setTimeout(r, 200));
  }
  await running.stop();
  throw new Error(`${bin} did not answer on ${url} within ${timeoutMs / 1000} s:\n${output.trim()}`);
}

/** Whether something answers HTTP at `url`. */
export async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** One emulator API call; unsigned (emulators do not check signatures) but scoped to a region and service. */
export interface ApiCall {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** The Authorization header an emulator routes by: the access key (account) and the region and service. */
export function authorization(accessKey: string, region: string, service: string): string {
  return `AWS4-HMAC-SHA256 Credential=${accessKey}/20240101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The S3 state bucket, in its region. */
export function createBucketCall(bucket: string, region: string, accessKey: string): ApiCall {
  const body =
    region === "us-east-1"
      ? ""
      : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${xml(region)}</LocationConstraint></CreateBucketConfiguration>`;
  return { service: "s3", method: "PUT", path: `/${encodeURIComponent(bucket)}`, headers: { authorization: authorization(accessKey, region, "s3") }, body };
}

/** The lock table, as scripts/setup-backend.sh makes it: `LockID` string hash key, on demand. */
export function createLockTableCall(table: string, region: string, accessKey: string): ApiCall {
  return {
    service: "dynamodb",
    method: "POST",
    path: "/",
    headers: {
      authorization: authorization(accessKey, region, "dynamodb"),
      "x-amz-target": "DynamoDB_20120810.CreateTable",
      "content-type": "application/x-amz-json-1.0",
    },
    body: JSON.stringify({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  };
}

/** A public hosted zone (made by hand before a deployment). */
export function createHostedZoneCall(name: string, reference: string, accessKey: string): ApiCall {
  return {
    service: "route53",
    method: "POST",
    path: "/2013-04-01/hostedzone",
    headers: { authorization: authorization(accessKey, "us-east-1", "route53"), "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>${xml(name)}</Name><CallerReference>${xml(reference)}</CallerReference></CreateHostedZoneRequest>`,
  };
}

/**
 * A JSON-1.1 API call (CodeDeploy and the like): `service` is the signing name the emulator routes by,
 * `target` the X-Amz-Target (e.g. CodeDeploy_20141006.CreateApplication).
 */
export interface JsonRequest {
  readonly service: string;
  readonly target: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export function jsonCall(request: JsonRequest, region: string, accessKey: string): ApiCall {
  return {
    service: request.service,
    method: "POST",
    path: "/",
    headers: { authorization: authorization(accessKey, region, request.service), "x-amz-target": request.target, "content-type": "application/x-amz-json-1.1" },
    body: JSON.stringify(request.body),
  };
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
}

export type Send = (url: string, call: ApiCall) => Promise<ApiAnswer>;

export const send: Send = async (url, call) => {
  const response = await fetch(`${url.replace(/\/$/, "")}${call.path}`, {
    method: call.method,
    headers: call.headers,
    body: call.body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: await response.text() };
};

/** The id in a CreateHostedZone answer (`<Id>/hostedzone/Z...</Id>`). */
export function hostedZoneIdOf(body: string): string | undefined {
  return /<Id>\/hostedzone\/([^<]+)<\/Id>/.exec(body)?.[1];
}

export interface Backend {
  readonly bucket: string;
  readonly table: string;
  readonly region: string;
}

/**
 * Creates the state bucket(s) and lock table(s), and a hosted zone for each zone id the stacks name;
 * returns settings zone id -> emulator zone id. Fails naming the call when the emulator refuses one.
 */
export async function createPrerequisites(
  url: string,
  accessKey: string,
  backends: readonly Backend[],
  zones: ReadonlyMap<string, string>,
  call: Send = send,
): Promise<Map<string, string>> {
  const check = async (what: string, c: ApiCall, ok: (a: ApiAnswer) => boolean = (a) => a.status < 300) => {
    const answer = await call(url, c);
    if (!ok(answer)) throw new Error(`the emulator at ${url} refused to create ${what}: HTTP ${answer.status} ${answer.body.slice(0, 500)}`);
    return answer;
  };
  const seen = new Set<string>();
  for (const b of backends) {
    if (!seen.has(`bucket ${b.bucket}`)) await check(`the state bucket ${b.bucket}`, createBucketCall(b.bucket, b.region, accessKey));
    if (!seen.has(`table ${b.region} ${b.table}`)) await check(`the lock table ${b.table}`, createLockTableCall(b.table, b.region, accessKey));
    seen.add(`bucket ${b.bucket}`).add(`table ${b.region} ${b.table}`);
  }
  const ids = new Map<string, string>();
  for (const [own, name] of zones) {
    const answer = await check(`the hosted zone ${name} (standing in for ${own})`, createHostedZoneCall(name, `emulate-${own}`, accessKey));
    const id = hostedZoneIdOf(answer.body);
    if (!id) throw new Error(`the emulator at ${url} created the hosted zone ${name} but its answer has no zone id: ${answer.body.slice(0, 500)}`);
    ids.set(own, id);
  }
  return ids;
}
