import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { junit } from '../../../cli/scenarios/report.js';
import type { ScenarioResult } from '../../../cli/scenarios/runner.js';

describe('JUnit report', () => {
  it('stays well-formed whatever the transcript holds', () => {
    const result: ScenarioResult = {
      file: 'a & b.yaml',
      name: 'quotes " and <tags>',
      passed: false,
      durationMs: 1234,
      steps: [],
      failure: {
        line: 3,
        step: 'say: "x"',
        message: 'no reply containing "<b>" within 1.0 s',
        transcript: ['#1 bot: bell \u0007 and nul \u0000 and form feed \u000c', "#2 bot: it's & more"],
      },
    };
    const xml = junit(
      [result, { ...result, name: 'ok', passed: true, durationMs: 10 }],
      new Date('2026-11-24T06:00:00Z'),
    );
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('name="quotes &quot; and &lt;tags&gt;"');
    expect(xml).toContain('tests="2" failures="1"');
    expect(xml).toContain('timestamp="2026-11-24T06:00:00"');
    const controls = [...xml].filter((c) => c.charCodeAt(0) < 0x20 && !'\t\n\r'.includes(c));
    expect(controls).toEqual([]);
  });
});
