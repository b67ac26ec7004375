/** The scenarios of the conformance suite. */
export type ScenarioName =
  'crash-restart' | 'hang' | 'blackhole' | 'reset' | 'unknown-outcome' | 'auth' | 'stop';

/** Every scenario, in the order the suite runs them. */
export const scenarioNames = [
  'crash-restart',
  'hang',
  'blackhole',
  'reset',
  'unknown-outcome',
  'auth',
  'stop',
] as const satisfies readonly ScenarioName[];

/** What one scenario measured. Times in milliseconds; `undefined` where a scenario does not measure it. */
export interface ScenarioResult {
  /** A scenario of the suite, or `fault:<name>` for a catalogue fault the suite was asked to apply (`faults`). */
  scenario: ScenarioName | `fault:${string}`;
  status: 'passed' | 'failed' | 'skipped';
  /** From the fault to the target leaving `connected`. */
  detectionMs?: number;
  detectionBoundMs?: number;
  /** From the server accepting again to the target's `reconnect`. */
  recoveryMs?: number;
  recoveryBoundMs?: number;
  /** How long the operation issued during the fault took to settle, and its deadline. */
  operationMs?: number;
  operationDeadlineMs?: number;
  /** Anything else worth quoting (connections attempted, outcome seen, skip reason). */
  notes?: string;
  /** The failure message, when `status` is `failed`. */
  error?: string;
}

/** The suite's findings for one driver; filled in while the tests run, complete after the suite. */
export interface ConformanceReport {
  driver: string;
  server: string;
  /** The policy the scenarios ran with (before per-scenario changes), as given to createTarget. */
  policy: unknown;
  results: ScenarioResult[];
}

const fmt = (ms: number | undefined): string => (ms === undefined ? '—' : `${Math.round(ms)}`);
const pair = (value: number | undefined, bound: number | undefined): string =>
  value === undefined ? '—' : bound === undefined ? fmt(value) : `${fmt(value)} (≤ ${fmt(bound)})`;

/** The report as a Markdown table, the form the drivers' READMEs quote. */
export function formatConformanceTable(report: ConformanceReport): string {
  const lines = [
    `Conformance of driver \`${report.driver}\` against ${report.server}`,
    '',
    '| scenario | result | detection ms | recovery ms | operation ms | notes |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of report.results) {
    const notes = [r.notes, r.error?.split('\n')[0]].filter(Boolean).join('; ').replaceAll('|', '\\|');
    lines.push(
      `| ${r.scenario} | ${r.status} | ${pair(r.detectionMs, r.detectionBoundMs)} | ${pair(r.recoveryMs, r.recoveryBoundMs)} | ${pair(r.operationMs, r.operationDeadlineMs)} | ${notes} |`,
    );
  }
  return lines.join('\n');
}
