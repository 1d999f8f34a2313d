#!/usr/bin/env node
/**
 * `npm run bench`: builds the benchmark files with esbuild (installed with Vite) into bench/.out, runs each one in
 * its own `node --expose-gc` process with a happy-dom window installed first (bench/dom.ts), and prints one table
 * of the rows they report. Benchmarks never fail on speed; a benchmark that crashes makes this exit non-zero.
 *
 * Usage: node bench/run.mjs [name...]   e.g. `npm run bench -- size latency` runs only those two.
 */
import { spawn } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '.out')
const order = ['throughput', 'fanout', 'memory', 'latency', 'outage', 'size', 'hydration', 'window', 'peers', 'listeners', 'writes']
const wanted = process.argv.slice(2)
const names = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort((a, b) => order.indexOf(a) - order.indexOf(b))
if (names.length === 0) {
  console.error(`No benchmark named ${wanted.join(', ')}; available: ${order.join(', ')}`)
  process.exit(2)
}

rmSync(out, { recursive: true, force: true })
await build({
  entryPoints: [join(here, 'dom.ts'), ...names.map((n) => join(here, `${n}.bench.ts`))],
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages stay imports resolved from node_modules at run time; the library's sources are bundled in.
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
})

const started = performance.now()
const rows = []
const failures = []
for (const name of names) {
  console.error(`▶ ${name}`)
  const t0 = performance.now()
  const code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--enable-source-maps', '--import', pathToFileURL(join(out, 'dom.js')).href, join(out, `${name}.bench.js`)],
      // Vue's production build, as an app ships it (the development build adds warnings and devtools hooks).
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production', BENCH_ROOT: join(here, '..') } },
    )
    let buffer = ''
    child.stdout.on('data', (chunk) => {
      buffer += chunk
      let nl
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (line.startsWith('BENCH_ROW ')) rows.push(JSON.parse(line.slice('BENCH_ROW '.length)))
        else if (line) console.error(`  ${line}`)
      }
    })
    child.on('close', (c, signal) => resolve(signal ? 1 : c))
  })
  console.error(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  if (code !== 0) failures.push(`${name} exited with ${code}`)
}

const cpu = cpus()
console.log(
  `\nvue-observed benchmarks — ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, NODE_ENV=${process.env.NODE_ENV ?? 'production'}, ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s\n`,
)
const header = ['Benchmark', 'Measure', 'Ours', 'Baseline', 'Ratio', 'Target', 'Met']
const table = rows.map((r) => [r.bench, r.measure, r.ours, r.baseline, r.ratio, r.target, r.met === null ? '' : r.met ? 'yes' : 'NO'])
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => String(r[i]).length)))
const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
console.log(line(header))
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`)
for (const r of table) console.log(line(r))
if (failures.length) {
  console.error(`\nFAILED: ${failures.join('; ')}`)
  process.exit(1)
}
if (rows.length === 0) {
  console.error('\nFAILED: no benchmark reported anything')
  process.exit(1)
}
