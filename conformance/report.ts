// The ConformanceReport of upstream conformance/apis/v1 and
// conformance/utils/suite/reports.go, written as upstream writes it: YAML
// with keys in alphabetical order.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { isExtendedIn, profilesForTest, type ConformanceProfile, type FeatureName } from './features.js';
import { repoRoot } from './harness/paths.js';

/** NOT_SUPPORTED tests are left out of the statistics, as upstream does. */
export type Outcome = 'passed' | 'failed' | 'skipped' | 'notSupported';

export interface TestOutcome {
  shortName: string;
  features: FeatureName[];
  provisional: boolean;
  outcome: Outcome;
}

interface Statistics {
  Passed: number;
  Skipped: number;
  Failed: number;
}

interface Status {
  result: 'success' | 'partial' | 'failure';
  statistics: Statistics;
  skippedTests?: string[];
  failedTests?: string[];
}

interface ProfileReport {
  name: string;
  summary: string;
  core: Status;
  extended?: Status & { supportedFeatures?: string[]; unsupportedFeatures?: string[] };
}

function newStatus(): Status {
  return { result: 'success', statistics: { Passed: 0, Skipped: 0, Failed: 0 } };
}

function finish(status: Status): void {
  status.result = status.statistics.Failed > 0 ? 'failure' : status.statistics.Skipped > 0 ? 'partial' : 'success';
}

function summaryOf(status: Status): string {
  switch (status.result) {
    case 'success': return 'succeeded';
    case 'partial': return `partially succeeded with ${status.statistics.Skipped} test skips`;
    case 'failure': return `failed with ${status.statistics.Failed} test failures`;
  }
}

export interface ReportInput {
  outcomes: readonly TestOutcome[];
  profiles: readonly ConformanceProfile[];
  supportedFeatures: ReadonlySet<FeatureName>;
  gatewayAPIVersion: string;
}

export function buildReport(input: ReportInput): Record<string, any> {
  const reports = new Map<string, ProfileReport>();
  const succeededProvisional: string[] = [];
  for (const o of [...input.outcomes].sort((a, b) => a.shortName.localeCompare(b.shortName))) {
    if (o.outcome === 'passed' && o.provisional) succeededProvisional.push(o.shortName);
    if (o.outcome === 'notSupported') continue;
    for (const profile of profilesForTest(o.features, input.profiles)) {
      const report = reports.get(profile.name) ?? { name: profile.name, summary: '', core: newStatus() };
      reports.set(profile.name, report);
      const status = isExtendedIn(profile, o.features) ? (report.extended ??= newStatus()) : report.core;
      if (o.outcome === 'passed') status.statistics.Passed++;
      if (o.outcome === 'failed') {
        status.statistics.Failed++;
        (status.failedTests ??= []).push(o.shortName);
      }
      if (o.outcome === 'skipped') {
        status.statistics.Skipped++;
        (status.skippedTests ??= []).push(o.shortName);
      }
    }
  }
  for (const profile of input.profiles) {
    const report = reports.get(profile.name);
    if (!report) continue;
    finish(report.core);
    report.summary = `Core tests ${summaryOf(report.core)}`;
    if (report.extended) {
      finish(report.extended);
      report.summary += `. Extended tests ${summaryOf(report.extended)}`;
      const extended = [...profile.extended].sort();
      const supported = extended.filter((f) => input.supportedFeatures.has(f));
      const unsupported = extended.filter((f) => !input.supportedFeatures.has(f));
      if (supported.length > 0) report.extended.supportedFeatures = supported;
      if (unsupported.length > 0) report.extended.unsupportedFeatures = unsupported;
    }
    report.summary += '.';
  }

  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ConformanceReport',
    date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    mode: 'default',
    implementation: {
      organization: 'archway',
      project: 'archway',
      url: 'https://github.com/archway/archway',
      version: pkg.version,
      contact: ['https://github.com/archway/archway/issues'],
    },
    gatewayAPIVersion: input.gatewayAPIVersion,
    gatewayAPIChannel: 'standard',
    profiles: input.profiles.map((p) => reports.get(p.name)).filter((r): r is ProfileReport => r !== undefined),
    ...(succeededProvisional.length > 0 ? { succeededProvisionalTests: succeededProvisional } : {}),
  };
}

export function writeReport(path: string, report: object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(report, { sortMapEntries: true, indentSeq: false }));
}
