import { createEventHook, type EventHookOn } from '@vueuse/core'

/** A VueUse event hook created on first `on`: most callers never listen, and a list may hold thousands of these. */
export function lazyEventHook<T extends unknown[]>(): { on: EventHookOn<T>; trigger(...args: T): void } {
  let hook: ReturnType<typeof createEventHook<T>> | undefined
  return {
    on: ((fn) => (hook ??= createEventHook<T>()).on(fn)) as EventHookOn<T>,
    trigger: (...args) => void hook?.trigger(...(args as Parameters<typeof hook.trigger>)),
  }
}
