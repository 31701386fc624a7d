/** One bad setting: where it is, what was found, what is expected. */
export interface SettingProblem {
  readonly file: string;
  readonly key: string;
  readonly found: string;
  readonly expected: string;
}

export function formatProblem(p: SettingProblem): string {
  return `${p.file}: ${p.key}: found ${p.found}; expected ${p.expected}`;
}

/** Raised before any stack is built, so nothing is written when a setting is wrong. */
export class SettingsError extends Error {
  constructor(readonly problems: readonly SettingProblem[]) {
    super(
      problems.length === 1
        ? `Invalid setting. ${formatProblem(problems[0]!)}`
        : `${problems.length} invalid settings:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`,
    );
    this.name = "SettingsError";
  }
}

/** Renders a found value for a message: strings quoted, the rest as JSON, long values cut. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
