/**
 * The playground in a real browser (Debian's chromium, headless) on each driver: rows, filters and paging; writes
 * made server-side (another client) reaching the DOM without reload; a server stopped and restarted on the same port;
 * two pages in sync. A failing test leaves screenshots in test/e2e/artifacts/.
 */
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { COLLECTION, INDEX } from '../../playground/taxis'
import { rowFare, rowIds, startPlayground, waitForText, WAIT_MS, type Playground } from './playground'

let pg: Playground

beforeAll(async () => {
  pg = await startPlayground()
})

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    const files = await pg.screenshot(ctx.task.name)
    if (files.length) console.error(`screenshots of the failed test: ${files.join(', ')}`)
  }
  await pg.reset()
})

afterAll(async () => {
  await pg?.close()
})

/** Server-side writes, as another client of each backend would make them. */
const serverSide = {
  kuzzle: {
    setFare: (id: string, fare: number) => void pg.kuzzle.documents.update(INDEX, COLLECTION, id, { fare }),
    remove: (id: string) => void pg.kuzzle.documents.delete(INDEX, COLLECTION, id),
    stop: () => pg.kuzzle.stop(),
    restart: () => pg.kuzzle.restart(),
  },
  sanity: {
    setFare: (id: string, fare: number) => void pg.sanity.documents.patch(id, { set: { fare } }, pg.dataset),
    remove: (id: string) => pg.sanity.documents.delete(id, pg.dataset),
    stop: () => pg.sanity.stop(),
    restart: () => pg.sanity.restart(),
  },
}

const waitForRowGone = (page: Page, id: string) =>
  page.waitForSelector(`tbody tr[data-id="${id}"]`, { state: 'detached', timeout: WAIT_MS })

const waitForFare = (page: Page, id: string, fare: string) =>
  page.waitForFunction(
    ([rowId, text]) => document.querySelector(`tbody tr[data-id="${rowId}"] [data-test=fare]`)?.textContent?.trim() === text,
    [id, fare] as const,
    { timeout: WAIT_MS },
  )

describe.each(['memory', 'kuzzle', 'sanity'] as const)('%s driver', (backend) => {
  it('a local write from the detail pane: the new fare at once (optimistic), then saved and in the list', async () => {
    const page = await pg.open(backend)
    const [first] = await rowIds(page)
    await page.click(`tbody tr[data-id="${first}"]`)
    await waitForText(page, '[data-test=detail-id]', first)
    const before = Number((await page.textContent('[data-test=detail-fare]'))!.trim().slice(1))
    const after = (Math.round((before + 1) * 100) / 100).toFixed(2)
    await page.click('[data-test=detail-tip]')
    await waitForText(page, '[data-test=detail-fare]', `$${after}`)
    // Confirmed: nothing pending, and the list (a search, fed by the server's news) shows the stored fare.
    await page.waitForSelector('[data-test=detail-pending]', { state: 'detached', timeout: WAIT_MS })
    await waitForFare(page, first, after)
  })

  it('shows the fleet: rows, live badges, the Pinia summary, filters, sort and "load more"', async () => {
    const page = await pg.open(backend)
    await waitForText(page, '[data-test=connection]', 'live')
    await waitForText(page, '[data-test=list-count]', '25 of 300')
    await waitForText(page, '[data-test=fleet-total]', '300 taxis')
    await waitForText(page, '[data-test=detail-id]', 'taxi-001')

    // Sorted by fare, highest first.
    const fares = await page.$$eval('tbody tr [data-test=fare]', (cells) => cells.map((c) => Number(c.textContent)))
    expect(fares).toHaveLength(25)
    expect(fares).toEqual([...fares].sort((a, b) => b - a))

    await page.click('[data-test=more]')
    await waitForText(page, '[data-test=list-count]', '50 of 300')

    // A filter in the backend's own query language: the count agrees with the Pinia store's summary.
    const hired = await page.$eval('[data-test=summary] tr[data-status="hired"] td:last-child', (td) => td.textContent?.trim())
    // keepPrevious: the list never goes empty while the new filter's first page is read.
    await page.evaluate(() => {
      const w = window as unknown as { minRows: number }
      w.minRows = document.querySelectorAll('tbody tr').length
      new MutationObserver(() => (w.minRows = Math.min(w.minRows, document.querySelectorAll('tbody tr').length))).observe(
        document.querySelector('tbody')!,
        { childList: true },
      )
    })
    await page.selectOption('[data-test=filter-status]', 'hired')
    await waitForText(page, '[data-test=list-count]', `${Math.min(25, Number(hired))} of ${hired}`)
    expect(await page.evaluate(() => (window as unknown as { minRows: number }).minRows)).toBeGreaterThan(0)
    const statuses = await page.$$eval('tbody tr td:nth-child(3)', (cells) => cells.map((c) => c.textContent?.trim()))
    expect(new Set(statuses)).toEqual(new Set(['hired']))
    await waitForText(page, '[data-test=list-status]', 'live')

    await page.selectOption('[data-test=sort]', 'driver:asc')
    await page.waitForFunction(() => {
      const names = [...document.querySelectorAll('tbody tr td:nth-child(2)')].map((c) => c.textContent ?? '')
      return names.length > 1 && names.every((n, i) => i === 0 || names[i - 1] <= n)
    })
  })
  it('says what drives each panel: the composable call, a flash on a changed row, the event log', async () => {
    const page = await pg.open(backend)
    await waitForText(page, '[data-test=list-status]', 'live')
    expect(await page.textContent('[data-test=what]')).toContain('live-synced')
    // Each panel shows its own source's composable call.
    const calls = await page.$$eval('[data-test=call-source] code', (codes) => codes.map((c) => c.textContent ?? ''))
    expect(calls).toHaveLength(3)
    expect(calls[0]).toContain('useObservedSearch<Taxi>(backend.index, backend.collection, search, { size: 25')
    expect(calls[1]).toContain('useObservedDocument<Taxi>(backend.index, backend.collection, () => props.id)')
    expect(calls[2]).toContain("{ size: 1000, live: 'query' }")
    // A change flashes its row and is logged by the list's and the detail's composables. Sorted by driver, which a
    // move never changes, the row stays in the window.
    await page.selectOption('[data-test=sort]', 'driver:asc')
    await page.waitForFunction(() => {
      const names = [...document.querySelectorAll('tbody tr td:nth-child(2)')].map((c) => c.textContent ?? '')
      return names.length > 1 && names.every((n, i) => i === 0 || names[i - 1] <= n)
    })
    const [first] = await rowIds(page)
    await page.evaluate(() => {
      const flashed: string[] = ((window as unknown as { flashed: string[] }).flashed = [])
      new MutationObserver((records) => {
        for (const r of records) {
          const el = r.target as HTMLElement
          if (el.classList.contains('flash')) flashed.push(el.dataset.id ?? '')
        }
      }).observe(document.querySelector('tbody')!, { attributes: true, attributeFilter: ['class'], subtree: true })
    })
    await page.click(`tbody tr[data-id="${first}"]`)
    await waitForText(page, '[data-test=detail-id]', first)
    await page.click('[data-test=update]')
    await page.waitForFunction((id) => (window as unknown as { flashed: string[] }).flashed.includes(id), first, { timeout: WAIT_MS })
    await page.waitForFunction(
      (id) => [...document.querySelectorAll('[data-test=event-log] li[data-kind=change]')].some((li) => li.textContent?.includes(id) && li.textContent.includes('detail')),
      first,
      { timeout: WAIT_MS },
    )
    await page.click('[data-test=readme-link]')
    await page.waitForSelector('[data-test=readme][open]', { timeout: WAIT_MS })
    expect(await page.textContent('[data-test=readme] pre')).toMatch(/^# vue-observed/)
  })
})

describe.each(['kuzzle', 'sanity'] as const)('%s driver, writes made server-side', (backend) => {
  it('an update made through the server API shows in the DOM without reload', async () => {
    const page = await pg.open(backend)
    const [, second] = await rowIds(page)
    // The highest fare: the row moves to the top, in both the list and the sort order.
    serverSide[backend].setFare(second, 99.5)
    await waitForFare(page, second, '99.50')
    await page.waitForFunction((id) => document.querySelector('tbody tr[data-id]')?.getAttribute('data-id') === id, second)
    await waitForText(page, '[data-test=list-count]', '25 of 300')
  })

  it('a delete made through the server API removes the row', async () => {
    const page = await pg.open(backend)
    const [first] = await rowIds(page)
    await serverSide[backend].remove(first)
    await waitForRowGone(page, first)
    await waitForText(page, '[data-test=fleet-total]', '299 taxis')
    await page.waitForFunction(() => /of 299$/.test(document.querySelector('[data-test=list-count]')?.textContent ?? ''))
  })

  it('the server stopped and restarted on the same port: reconnecting, then live, and a write made meanwhile shows', async () => {
    const page = await pg.open(backend)
    await waitForText(page, '[data-test=connection]', 'live')
    const [, , third] = await rowIds(page)
    await serverSide[backend].stop()
    await waitForText(page, '[data-test=connection]', ['reconnecting', 'error'])
    // Written while the page cannot hear about it.
    serverSide[backend].setFare(third, 98.25)
    await serverSide[backend].restart()
    await waitForText(page, '[data-test=connection]', 'live', 30_000)
    await waitForFare(page, third, '98.25')
    await waitForText(page, '[data-test=list-status]', 'live')
  })

  it('two pages stay in sync: moves, deletes and additions made in one show in the other', async () => {
    const a = await pg.open(backend)
    const b = await pg.open(backend)
    await waitForText(b, '[data-test=detail-id]', 'taxi-001')
    const before = await a.textContent('[data-test=detail-position]')

    // Moves (through the SDK / client in page A): page B's detail pane follows.
    await a.click('[data-test=update]')
    const moved = await a.waitForFunction(
      (old) => {
        const now = document.querySelector('[data-test=detail-position]')?.textContent
        return now && now !== old ? now : false
      },
      before,
      { timeout: WAIT_MS },
    )
    await waitForText(b, '[data-test=detail-position]', ((await moved.jsonValue()) as string).trim())

    // Deletes: the row page A deletes leaves page B.
    const [first] = await rowIds(a)
    await a.click(`tbody tr[data-id="${first}"]`)
    await waitForText(a, '[data-test=detail-id]', first)
    await a.click('[data-test=delete]')
    await waitForRowGone(b, first)
    await waitForText(b, '[data-test=fleet-total]', '299 taxis')

    // Additions: the fleet store of page B counts the new taxi.
    await a.click('[data-test=create]')
    await waitForText(b, '[data-test=fleet-total]', '300 taxis')
    expect(await a.$('[data-test=action-error]')).toBeNull()
  })

  it('"Simulate traffic" writes server-side: recently updated taxis rise to the top of every page', async () => {
    const a = await pg.open(backend)
    const b = await pg.open(backend)
    for (const page of [a, b]) await page.selectOption('[data-test=sort]', 'updatedAt:desc')
    // The seed's most recent taxi leads until the traffic moves others.
    for (const page of [a, b]) await page.waitForFunction(() => document.querySelector('tbody tr[data-id]')?.getAttribute('data-id') === 'taxi-300')
    await a.fill('[data-test=rate]', '40')
    await a.click('[data-test=traffic]')
    await waitForText(a, '[data-test=traffic]', 'Stop traffic (40/s, server-side)')
    expect(pg.backends.traffic[backend].rate).toBe(40)
    await b.waitForFunction(() => document.querySelector('tbody tr[data-id]')?.getAttribute('data-id') !== 'taxi-300')
    // The other tab's toggle follows the server's traffic, both ways.
    await waitForText(b, '[data-test=traffic]', 'Stop traffic (40/s, server-side)')
    await a.click('[data-test=traffic]')
    await waitForText(a, '[data-test=traffic]', 'Simulate traffic')
    expect(pg.backends.traffic[backend].rate).toBe(0)
    await waitForText(b, '[data-test=traffic]', 'Simulate traffic')
  })
})

describe('the dev server\'s outage button', () => {
  it('restarts the embedded server on the same port: the badge goes reconnecting, then live again', async () => {
    const page = await pg.open('kuzzle')
    await waitForText(page, '[data-test=connection]', 'live')
    const port = pg.kuzzle.port
    await page.click('[data-test=outage]')
    await waitForText(page, '[data-test=connection]', ['reconnecting', 'error'])
    await waitForText(page, '[data-test=connection]', 'live', 30_000)
    expect(pg.kuzzle.port).toBe(port)
    expect(await page.$('[data-test=action-error]')).toBeNull()
  })
})

describe('memory driver, in the page', () => {
  it('the buttons write through the driver: a move shows in the detail pane, a delete removes the row', async () => {
    const page = await pg.open('memory')
    const before = await page.textContent('[data-test=detail-position]')
    await page.click('[data-test=update]')
    await page.waitForFunction((old) => document.querySelector('[data-test=detail-position]')?.textContent !== old, before)

    const [first] = await rowIds(page)
    await page.click(`tbody tr[data-id="${first}"]`)
    await page.click('[data-test=delete]')
    await waitForRowGone(page, first)
    await waitForText(page, '[data-test=fleet-total]', '299 taxis')
    await waitForText(page, '[data-test=detail-status]', 'deleted')
  })

  it('is one store per tab: a delete in one page leaves the other alone, and the page says so', async () => {
    const a = await pg.open('memory')
    const b = await pg.open('memory')
    expect(await a.textContent('[data-test=where]')).toContain('this tab only')
    const [first] = await rowIds(a)
    await a.click(`tbody tr[data-id="${first}"]`)
    await a.click('[data-test=delete]')
    await waitForRowGone(a, first)
    await waitForText(a, '[data-test=fleet-total]', '299 taxis')
    expect(await rowFare(b, first)).not.toBeNull()
    expect(await b.textContent('[data-test=fleet-total]')).toBe('300 taxis')
  })

  it('remembers the chosen backend: the picker switches, and a page opened without ?backend= keeps it', async () => {
    const page = await pg.open('memory')
    await page.click('nav [data-backend="sanity"]')
    await page.waitForSelector('nav [data-backend="sanity"].active')
    await waitForText(page, '[data-test=connection]', 'live')
    await page.goto(pg.url)
    await page.waitForSelector('nav [data-backend="sanity"].active')
    await waitForText(page, '[data-test=list-count]', '25 of 300')
  })
})
