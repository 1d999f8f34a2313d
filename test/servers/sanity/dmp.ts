/**
 * Sanity's `diffMatchPatch` patch operation: a string field patched with a diff-match-patch patch in its text form
 * (`patch_toText` of google/diff-match-patch, which @sanity/diff-match-patch and the Studio produce). Hunks are applied
 * where their context matches exactly (at the hunk's position, or at its only other occurrence); the real backend's
 * fuzzy matching is not reproduced, so a hunk that does not match exactly is refused, never half-applied or dropped.
 */

/** A diffMatchPatch the server cannot apply; the mutate endpoint answers 400. */
export class DiffMatchPatchError extends Error {
  override readonly name = 'DiffMatchPatchError'
}

interface Hunk {
  /** Where the hunk's source text starts in the text it was made from (0-based). */
  readonly start: number
  /** The text the hunk replaces (context and deletions) and the text it puts in its place (context and insertions). */
  readonly from: string
  readonly to: string
}

const HEADER = /^@@ -(\d+),?(\d*) \+(\d+),?(\d*) @@$/

/** Parses `patch_toText` output: `@@ -a,b +c,d @@` headers, then lines of ' ', '-' or '+' and URI-encoded text. */
export function parseDiffMatchPatch(text: string): Hunk[] {
  if (typeof text !== 'string') throw new DiffMatchPatchError('diffMatchPatch needs a patch string')
  const lines = text.split('\n')
  const hunks: Hunk[] = []
  let i = 0
  while (i < lines.length) {
    if (lines[i] === '') {
      i++
      continue
    }
    const m = HEADER.exec(lines[i])
    if (!m) throw new DiffMatchPatchError(`Invalid diffMatchPatch hunk header: ${JSON.stringify(lines[i])}`)
    // As patch_fromText reads it: a length of '' means 1 and a 1-based start, '0' an empty range at that offset.
    const start = m[4] === '0' ? Number(m[3]) : Number(m[3]) - 1
    let from = ''
    let to = ''
    for (i++; i < lines.length && !lines[i].startsWith('@'); i++) {
      const line = lines[i]
      if (line === '') continue
      let body: string
      try {
        // patch_toText leaves '+' unescaped in text; decodeURI would keep it anyway.
        body = decodeURI(line.slice(1))
      } catch {
        throw new DiffMatchPatchError(`Invalid encoding in diffMatchPatch line: ${JSON.stringify(line)}`)
      }
      if (line[0] === ' ') {
        from += body
        to += body
      } else if (line[0] === '-') from += body
      else if (line[0] === '+') to += body
      else throw new DiffMatchPatchError(`Invalid diffMatchPatch line: ${JSON.stringify(line)}`)
    }
    hunks.push({ start: Math.max(0, start), from, to })
  }
  return hunks
}

/** Applies a patch to `value`, each hunk where its source text matches exactly. */
export function applyDiffMatchPatch(value: string, patch: string): string {
  let text = value
  // How far earlier hunks moved the text (the patch's positions are in the text it was made from).
  let delta = 0
  for (const hunk of parseDiffMatchPatch(patch)) {
    const expected = hunk.start + delta
    let at = text.startsWith(hunk.from, expected) ? expected : -1
    if (at < 0) {
      const first = text.indexOf(hunk.from)
      if (first >= 0 && text.indexOf(hunk.from, first + 1) < 0) at = first
    }
    if (at < 0) throw new DiffMatchPatchError(`diffMatchPatch hunk at ${hunk.start} does not match the current value`)
    text = text.slice(0, at) + hunk.to + text.slice(at + hunk.from.length)
    delta += hunk.to.length - hunk.from.length
  }
  return text
}
