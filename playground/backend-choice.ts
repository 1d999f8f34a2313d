/** Which backend the page runs on: `?backend=` in the URL, else the last choice (localStorage), else memory. */
import { BACKENDS, type BackendName } from './config'

const STORAGE_KEY = 'vue-observed-playground:backend'

const isBackend = (value: unknown): value is BackendName => BACKENDS.includes(value as BackendName)

/** The backend to run on; a choice made in the URL is remembered. */
export function chosenBackend(): BackendName {
  const fromUrl = new URLSearchParams(location.search).get('backend')
  if (isBackend(fromUrl)) {
    localStorage.setItem(STORAGE_KEY, fromUrl)
    return fromUrl
  }
  const saved = localStorage.getItem(STORAGE_KEY)
  return isBackend(saved) ? saved : 'memory'
}

/** Reloads the page on another backend (each backend gets a fresh app: one driver per app). */
export function switchBackend(name: BackendName): void {
  localStorage.setItem(STORAGE_KEY, name)
  const url = new URL(location.href)
  url.searchParams.set('backend', name)
  location.assign(url)
}
