// Requests for the same list race: two quick filter taps send two requests, and the first
// reply may arrive last. Each request takes a ticket; only the newest ticket's reply is used.
export class Latest {
  private seq = 0

  /** A new ticket; every earlier one is stale from now on. */
  next(): number {
    this.seq += 1
    return this.seq
  }

  isCurrent(ticket: number): boolean {
    return ticket === this.seq
  }
}

/** setData paths that append `items` after the `from` already shown (`list[20]`, `list[21]`, …):
 *  the view layer receives only the new rows, not the whole list again. */
export function appendPaths<T>(list: string, from: number, items: T[]): Record<string, T> {
  const update: Record<string, T> = {}
  items.forEach((item, i) => {
    update[`${list}[${from + i}]`] = item
  })
  return update
}
