/** What `guest-relay test` writes: the console report, JUnit XML (what CI servers read) and JSON. */
import type { Colors } from '../io.js';
import type { GenerativeOutcome } from './generative-run.js';
import type { ScenarioResult } from './runner.js';

/** A generative scenario's facts on one line: turns, tokens, placeholders and the seed that chose them. */
export function generativeFacts(outcome: GenerativeOutcome): string {
  const chosen = Object.entries(outcome.placeholders).map(([name, value]) => `${name}=${value}`);
  return [
    `${outcome.turns} message${outcome.turns === 1 ? '' : 's'}`,
    `${outcome.tokens.total} tokens (${outcome.tokens.prompt} prompt, ${outcome.tokens.completion} completion)`,
    `${chosen.length > 0 ? `${chosen.join(', ')}, ` : ''}seed ${outcome.seed}`,
    outcome.model,
  ].join(' · ');
}

/** The whole conversation of a generative scenario, one line per message. */
export function generativeTranscript(outcome: GenerativeOutcome): string[] {
  return outcome.transcript.map(
    (turn) => `${turn.role === 'guest' ? 'guest (model)' : 'bot'}: ${turn.text.replace(/\n/g, '\n    ')}`,
  );
}

export function formatResult(result: ScenarioResult, c: Colors): string {
  const time = `${(result.durationMs / 1000).toFixed(1)} s`;
  const outcome = result.generative;
  if (result.passed) {
    const head = `${c.green('✓')} ${result.name} ${c.dim(`(${result.file}, ${time})`)}`;
    if (outcome === undefined) return `${head}\n`;
    return `${head}\n    ${outcome.why}\n    ${c.dim(generativeFacts(outcome))}\n`;
  }
  const failure = result.failure;
  const lines = [`${c.red('✗')} ${c.bold(result.name)} ${c.dim(`(${result.file}, ${time})`)}`];
  if (outcome !== undefined) {
    lines.push(
      `    ${c.red(`${outcome.verdict}: ${outcome.why}`)}`,
      `    ${c.dim(generativeFacts(outcome))}`,
    );
    lines.push('    the conversation:');
    for (const line of generativeTranscript(outcome)) lines.push(`      ${line}`);
  } else if (failure) {
    lines.push(`    step (line ${failure.line}): ${failure.step}`);
    lines.push(`    ${c.red(failure.message)}`);
    if (failure.transcript.length > 0) {
      lines.push('    transcript around the step:');
      for (const line of failure.transcript) lines.push(`      ${line}`);
    } else {
      lines.push('    transcript: (empty)');
    }
  }
  return `${lines.join('\n')}\n`;
}

export function summary(results: readonly ScenarioResult[], durationMs: number, c: Colors): string {
  const failed = results.filter((r) => !r.passed).length;
  const text = `${results.length - failed} passed, ${failed} failed (${results.length} scenarios, ${(durationMs / 1000).toFixed(1)} s)`;
  return `\n${failed === 0 ? c.green(text) : c.red(text)}\n`;
}

/** Characters XML 1.0 does not allow at all (most C0 controls, U+FFFE, U+FFFF). */
function allowedInXml(char: string): boolean {
  const code = char.charCodeAt(0);
  if (code === 0x9 || code === 0xa || code === 0xd) return true;
  return code >= 0x20 && code !== 0xfffe && code !== 0xffff;
}

function xml(text: string): string {
  return [...text]
    .filter(allowedInXml)
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** JUnit XML: one testsuite per scenario file, one testcase per scenario, a failure element when it failed. */
export function junit(results: readonly ScenarioResult[], timestamp: Date): string {
  const byFile = new Map<string, ScenarioResult[]>();
  for (const result of results) byFile.set(result.file, [...(byFile.get(result.file) ?? []), result]);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const failures = results.filter((r) => !r.passed).length;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="guest-relay test" tests="${results.length}" failures="${failures}" errors="0" time="${seconds(total)}">`,
  ];
  let id = 0;
  for (const [file, suite] of byFile) {
    const suiteFailures = suite.filter((r) => !r.passed).length;
    const suiteTime = suite.reduce((sum, r) => sum + r.durationMs, 0);
    out.push(
      `  <testsuite name="${xml(file)}" id="${id++}" package="guest-relay" hostname="localhost" tests="${suite.length}" failures="${suiteFailures}" errors="0" skipped="0" time="${seconds(suiteTime)}" timestamp="${timestamp.toISOString().slice(0, 19)}">`,
    );
    out.push('    <properties/>');
    for (const result of suite) {
      const open = `    <testcase name="${xml(result.name)}" classname="${xml(file)}" time="${seconds(result.durationMs)}"`;
      const outcome = result.generative;
      // A generative scenario's conversation is worth reading whatever its verdict.
      const conversation =
        outcome === undefined
          ? []
          : [
              `      <system-out>${xml([outcome.why, generativeFacts(outcome), '', ...generativeTranscript(outcome)].join('\n'))}</system-out>`,
            ];
      if (result.passed) {
        out.push(
          ...(conversation.length === 0 ? [`${open}/>`] : [`${open}>`, ...conversation, '    </testcase>']),
        );
        continue;
      }
      const failure = result.failure;
      const message = failure ? `line ${failure.line}: ${failure.message}` : 'failed';
      const details = failure
        ? [`step: ${failure.step}`, failure.message, '', ...failure.transcript].join('\n')
        : '';
      out.push(`${open}>`);
      out.push(`      <failure message="${xml(message)}" type="ScenarioFailure">${xml(details)}</failure>`);
      out.push(...conversation);
      out.push('    </testcase>');
    }
    out.push('    <system-out/>', '    <system-err/>', '  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

export function json(results: readonly ScenarioResult[], durationMs: number): string {
  return `${JSON.stringify(
    {
      passed: results.filter((r) => r.passed).length,
      failed: results.filter((r) => !r.passed).length,
      durationMs,
      scenarios: results,
    },
    null,
    2,
  )}\n`;
}
