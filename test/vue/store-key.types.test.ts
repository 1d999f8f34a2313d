/**
 * The Pinia target's key is type-checked: tsc runs on test/vue/types/store-key.fixture.ts, whose `@ts-expect-error`
 * lines must stay errors (an unused directive fails), and on a copy without the directives, which must fail on
 * exactly those lines (so the check cannot pass by the fixture not being checked at all).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const types = resolve(here, 'types')
const generated = resolve(types, '.generated')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
afterAll(() => rmSync(generated, { recursive: true, force: true }))

describe('store key types', () => {
  it('a key that is not in the state, or whose type does not fit what is written, fails to compile', { timeout: 240_000 }, () => {
    const fixture = readFileSync(resolve(types, 'store-key.fixture.ts'), 'utf8').split('\n')
    // 1-based lines of the statements each directive covers, once the directives are removed.
    const expected: number[] = []
    const stripped: string[] = []
    for (const line of fixture) {
      if (line.trim().startsWith('// @ts-expect-error')) expected.push(stripped.length + 1)
      else stripped.push(line)
    }
    expect(expected.length).toBeGreaterThanOrEqual(8)
    rmSync(generated, { recursive: true, force: true })
    mkdirSync(generated, { recursive: true })
    writeFileSync(resolve(generated, 'stripped.ts'), stripped.join('\n'))
    writeFileSync(
      resolve(generated, 'tsconfig.json'),
      // `exclude: []`: the root tsconfig excludes this folder from the project-wide typecheck.
      JSON.stringify({ extends: '../tsconfig.json', include: ['../store-key.fixture.ts', 'stripped.ts'], exclude: [] }),
    )

    const run = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', resolve(generated, 'tsconfig.json')], {
      encoding: 'utf8',
    })
    const errors = run.stdout.split('\n').filter((l) => l.includes('error TS'))
    // The fixture itself compiles: every directive still covers an error, every valid use is accepted.
    expect(errors.filter((l) => l.includes('store-key.fixture.ts'))).toEqual([])
    // Without the directives, each covered line is an error, and no other line is.
    const lines = [...new Set(errors.filter((l) => l.includes('stripped.ts')).map((l) => Number(/stripped\.ts\((\d+),/.exec(l)?.[1])))]
    expect(lines.sort((a, b) => a - b)).toEqual(expected)
    expect(errors.length).toBeGreaterThan(0)
  })
})
