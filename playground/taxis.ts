/** A realistic, reproducible data set of NYC yellow taxis for the playground. */
import { mulberry32 } from '../src/drivers/memory/random'
export interface Taxi {
  driver: string
  status: 'available' | 'hired' | 'off-duty'
  borough: 'Manhattan' | 'Brooklyn' | 'Queens' | 'Bronx' | 'Staten Island'
  position: { lat: number; lon: number }
  fare: number
  updatedAt: number
}

export const INDEX = 'nyc-open-data'
export const COLLECTION = 'yellow-taxi'
export const STATUSES: Taxi['status'][] = ['available', 'hired', 'off-duty']
export const BOROUGHS: Taxi['borough'][] = ['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island']

const FIRST = ['Ana', 'Bilal', 'Chen', 'Dmitri', 'Esther', 'Farid', 'Grace', 'Hector', 'Imani', 'Jamal', 'Keiko', 'Luis', 'Maya', 'Nikhil', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Samir', 'Tomás']
const LAST = ['Alvarez', 'Brown', 'Cohen', 'Diallo', 'Egan', 'Fischer', 'García', 'Huang', 'Ivanova', 'Johnson', 'Kim', 'López', 'Murphy', 'Nguyen', 'Okafor', 'Patel', 'Rossi', 'Singh']
const CENTER: Record<Taxi['borough'], [number, number]> = {
  Manhattan: [40.7831, -73.9712],
  Brooklyn: [40.6782, -73.9442],
  Queens: [40.7282, -73.7949],
  Bronx: [40.8448, -73.8648],
  'Staten Island': [40.5795, -74.1502],
}

/** Seeded PRNG (the memory driver's mulberry32), so every run shows the same fleet. */
export const random = mulberry32

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

/** A new taxi with plausible values. */
export function makeTaxi(rnd: () => number, now = Date.now()): Taxi {
  const borough = pick(rnd, BOROUGHS)
  const [lat, lon] = CENTER[borough]
  return {
    driver: `${pick(rnd, FIRST)} ${pick(rnd, LAST)}`,
    status: pick(rnd, STATUSES),
    borough,
    position: { lat: round(lat + (rnd() - 0.5) * 0.08, 5), lon: round(lon + (rnd() - 0.5) * 0.08, 5) },
    fare: round(rnd() * 60, 2),
    updatedAt: now,
  }
}

/** A plausible change to one taxi: it moves, and sometimes changes status or fare. */
export function trafficUpdate(rnd: () => number, taxi: Taxi, now = Date.now()): Partial<Taxi> {
  const change: Partial<Taxi> = {
    position: { lat: round(taxi.position.lat + (rnd() - 0.5) * 0.004, 5), lon: round(taxi.position.lon + (rnd() - 0.5) * 0.004, 5) },
    updatedAt: now,
  }
  if (rnd() < 0.2) change.status = pick(rnd, STATUSES)
  if (rnd() < 0.3) change.fare = round(rnd() * 60, 2)
  return change
}

/**
 * The fleet: `count` taxis with ids `taxi-001`..., the same every run except for `updatedAt`, one second apart and
 * ending now, so that any later update is the most recent (sorting by `updatedAt` shows traffic on top).
 */
export function fleet(count = 300, seed = 2026, start = Date.now() - count * 1000): Array<{ _id: string; _source: Taxi }> {
  const rnd = random(seed)
  return Array.from({ length: count }, (_, i) => ({
    _id: `taxi-${String(i + 1).padStart(3, '0')}`,
    _source: makeTaxi(rnd, start + i * 1000),
  }))
}
