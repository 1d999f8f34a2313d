import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** The README's code blocks marked `<!-- example: name -->`, by name. */
export function readmeExamples(): Record<string, string> {
  const readme = readFileSync(resolve(here, '../../README.md'), 'utf8')
  const found: Record<string, string> = {}
  for (const m of readme.matchAll(/<!-- example: ([\w-]+) -->\n```\w+\n([\s\S]*?)```/g)) found[m[1]] = m[2]
  return found
}

/** A fresh folder (gitignored) where a test writes examples out as files, to import or mount them. */
export function exampleDir(name: string): { path(file: string): string; write(file: string, text: string): string; remove(): void } {
  const dir = resolve(here, '.generated', name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return {
    path: (file) => resolve(dir, file),
    write(file, text) {
      writeFileSync(resolve(dir, file), text)
      return resolve(dir, file)
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
