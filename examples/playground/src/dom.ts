/**
 * @file Small DOM helpers: build HTML and SVG elements from a tag, attributes and children, and
 * find the page's elements by id with a clear error when the HTML and the code disagree.
 */

type Child = Node | string;

/**
 * An HTML element with attributes and children.
 * @example el("li", { class: "sample" }, "Ada")
 */
export const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
};

/**
 * An SVG element with attributes and children.
 * @example svg("circle", { r: "4", cx: "10", cy: "10" })
 */
export const svg = <K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string>> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] => {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
};

/**
 * The element with this id, checked to be of the expected class.
 * @throws Error naming the id when it is missing or of another kind (index.html and the code disagree).
 * @example byId("start", HTMLButtonElement).disabled = true
 */
export const byId = <T extends Element>(id: string, kind: new (...args: never[]) => T): T => {
  const e = document.getElementById(id);
  if (!(e instanceof kind)) throw new Error(`playground: #${id} is missing from index.html or is not a ${kind.name}`);
  return e;
};
