/**
 * The first `k` items of a stream in a comparator's order, without sorting the stream: a binary heap of at most `k`
 * items whose root is the worst kept, so an item that sorts after it is dropped with one comparison. O(n log k)
 * time and O(k) memory where a full sort is O(n log n) time and O(n) memory.
 */
export class TopK<T> {
  private readonly heap: T[] = []

  constructor(
    private readonly k: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  offer(item: T): void {
    const heap = this.heap
    if (this.k <= 0) return
    if (heap.length < this.k) {
      heap.push(item)
      this.up(heap.length - 1)
    } else if (this.compare(item, heap[0]) < 0) {
      heap[0] = item
      this.down(0)
    }
  }

  /** What is kept, in order. */
  sorted(): T[] {
    return [...this.heap].sort(this.compare)
  }

  // The heap is ordered worst first: a parent sorts after (or equal to) its children.
  private up(i: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.compare(heap[i], heap[parent]) <= 0) return
      ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
      i = parent
    }
  }

  private down(i: number): void {
    const heap = this.heap
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let worst = i
      if (left < heap.length && this.compare(heap[left], heap[worst]) > 0) worst = left
      if (right < heap.length && this.compare(heap[right], heap[worst]) > 0) worst = right
      if (worst === i) return
      ;[heap[i], heap[worst]] = [heap[worst], heap[i]]
      i = worst
    }
  }
}
