/**
 * A Vue renderer that renders into plain objects instead of a DOM: component mount, update and unmount run exactly
 * as in an app, without the DOM implementation's own memory and time (for heap measurements).
 */
import { createRenderer, type App, type Component } from 'vue'

/** A rendered node: an element with children, or a text. */
export interface NullNode {
  tag: string
  text: string
  parent: NullNode | null
  children: NullNode[]
}

const node = (tag: string, text = ''): NullNode => ({ tag, text, parent: null, children: [] })

const { createApp } = createRenderer<NullNode, NullNode>({
  createElement: (tag) => node(tag),
  createText: (text) => node('#text', text),
  createComment: (text) => node('#comment', text),
  setText: (n, text) => void (n.text = text),
  setElementText: (n, text) => {
    for (const c of n.children) c.parent = null
    n.children = text ? [Object.assign(node('#text', text), { parent: n })] : []
  },
  insert: (child, parent, anchor) => {
    if (child.parent) child.parent.children.splice(child.parent.children.indexOf(child), 1)
    const at = anchor ? parent.children.indexOf(anchor) : -1
    if (at < 0) parent.children.push(child)
    else parent.children.splice(at, 0, child)
    child.parent = parent
  },
  remove: (child) => {
    if (!child.parent) return
    child.parent.children.splice(child.parent.children.indexOf(child), 1)
    child.parent = null
  },
  parentNode: (n) => n.parent,
  nextSibling: (n) => (n.parent ? (n.parent.children[n.parent.children.indexOf(n) + 1] ?? null) : null),
  patchProp: () => {},
})

/** Creates an app that mounts into a {@link NullNode}. */
export function createNullApp(root: Component): { app: App<NullNode>; container: NullNode } {
  return { app: createApp(root), container: node('root') }
}

/** The text content of a rendered tree. */
export function textOf(n: NullNode): string {
  return n.tag === '#text' ? n.text : n.children.map(textOf).join('')
}
