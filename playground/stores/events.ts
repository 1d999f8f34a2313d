import { defineStore } from 'pinia'
import { shallowRef } from 'vue'

/** One line of the event log: what a composable reported, and which panel's composable it was. */
export interface LoggedEvent {
  readonly seq: number
  readonly at: number
  readonly panel: 'list' | 'detail'
  readonly kind: 'change' | 'appear' | 'disappear' | 'delete' | 'error'
  readonly id: string | null
  readonly detail: string
}

/** How many events the log keeps: a busy traffic simulation must not grow the page's memory. */
const KEEP = 50

/** The page's event log: the change / appear / disappear / delete / error events of the panels' composables. */
export const useEventLog = defineStore('events', () => {
  const events = shallowRef<LoggedEvent[]>([])
  let seq = 0
  function add(panel: LoggedEvent['panel'], kind: LoggedEvent['kind'], id: string | null, detail = '') {
    events.value = [{ seq: ++seq, at: Date.now(), panel, kind, id, detail }, ...events.value.slice(0, KEEP - 1)]
  }
  function clear() {
    events.value = []
  }
  return { events, add, clear }
})
