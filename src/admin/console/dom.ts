// The few DOM helpers the views share. Every value from the server goes on the page as text, never as HTML.
import type { ids } from './ids.ts'

export type Id = (typeof ids)[keyof typeof ids]

/** The element of `id`, checked to be of the kind the caller expects (a renamed id fails loudly, once). */
export function byId<T extends HTMLElement>(id: Id, kind: new () => T): T {
  const element = document.getElementById(id)
  if (!(element instanceof kind)) throw new Error(`#${id} is missing or not a ${kind.name}`)
  return element
}

export interface Attributes {
  readonly className?: string
  readonly colSpan?: number
  readonly scope?: string
  readonly type?: string
  readonly 'aria-label'?: string
  readonly onclick?: () => void
}

export type Child = Node | string | number | null | undefined

/** An element with text or element children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | readonly Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  const { className, colSpan, onclick, ...rest } = attributes
  if (className) element.className = className
  if (colSpan !== undefined && element instanceof HTMLTableCellElement) element.colSpan = colSpan
  if (onclick) element.addEventListener('click', onclick)
  for (const [name, value] of Object.entries(rest)) if (value !== undefined) element.setAttribute(name, String(value))
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue
    element.append(child instanceof Node ? child : String(child))
  }
  return element
}

/** The first body of a table, its rows replaced. */
export function fillRows(table: HTMLTableElement, rows: readonly HTMLTableRowElement[]): void {
  const body = table.tBodies[0] ?? table.createTBody()
  body.replaceChildren(...rows)
}

/** The first body of a table, rows appended (the next page of a list). */
export function appendRows(table: HTMLTableElement, rows: readonly HTMLTableRowElement[]): void {
  const body = table.tBodies[0] ?? table.createTBody()
  body.append(...rows)
}
