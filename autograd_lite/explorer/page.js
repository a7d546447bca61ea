// The explorer page. PRIMITIVES (above) is the primitives table printed as JavaScript by
// autograd_lite.codegen; the helpers (sigmoid, xlogy, where ...) are the namespace the
// table's rules are written over. Nothing below knows any primitive by name.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("explorer-data").textContent);
  const NODES = DATA.nodes, STEPS = DATA.steps, N = NODES.length, OUT = DATA.output;
  const OUT_NAME = NODES[OUT].name;
  const SVG_NS = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------ numbers
  // notation.number, the one rule for numbers: `digits` significant digits (Python's "g"),
  // trailing zeros kept where the short form would not be the number itself, a Unicode minus.
  // |v| to p significant digits as Python rounds: to nearest, ties to even (0.25 -> 0.2),
  // on the double's exact decimal value (toExponential(100) holds it where a tie is possible).
  function roundDigits(v, p) {
    const [mantissa, e] = Math.abs(v).toExponential(100).split("e");
    const all = mantissa.replace(".", "");
    let kept = all.slice(0, p), exponent = parseInt(e, 10);
    const rest = all.slice(p);
    const up = rest[0] > "5" || (rest[0] === "5" &&
      (/[1-9]/.test(rest.slice(1)) || Number(kept[p - 1]) % 2 === 1));
    if (up) {
      const digits = kept.split("").map(Number);
      let i = p - 1;
      while (i >= 0 && digits[i] === 9) { digits[i] = 0; i--; }
      if (i < 0) { digits.unshift(1); digits.pop(); exponent += 1; } else digits[i] += 1;
      kept = digits.join("");
    }
    return [kept, exponent];
  }

  // Python's format(v, f".{p}g"), or with alternate, f"#.{p}g" (trailing zeros kept).
  function pythonG(v, p, alternate) {
    const [kept, e] = roundDigits(v, p);
    const strip = (t) => (alternate ? t : t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t);
    let text;
    if (e < -4 || e >= p) {
      const mantissa = strip(kept[0] + "." + kept.slice(1));
      const digits = String(Math.abs(e)).padStart(2, "0");
      text = `${mantissa}e${e < 0 ? "-" : "+"}${digits}`;
    } else if (e >= 0) {
      text = strip(kept.slice(0, e + 1) + "." + kept.slice(e + 1));
    } else {
      text = strip("0." + "0".repeat(-e - 1) + kept);
    }
    return (v < 0 ? "-" : "") + text;
  }

  function fmt(v, digits) {
    digits = digits || DATA.decimals;
    if (Number.isNaN(v)) return "nan";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "−inf";
    if (v === 0) return "0";
    let text = pythonG(v, digits, false);
    if (parseFloat(text) !== v) {
      text = pythonG(v, digits, true).replace(/\.$/, "").replace(".e", "e");
    }
    return text.startsWith("-") ? "−" + text.slice(1) : text;
  }

  // ------------------------------------------------------------ the numbers of the graph
  const values = NODES.map((node) => node.data);
  let locals = new Array(N).fill(null);

  function args(i, of) {
    return NODES[i].parents.map((p) => (typeof p === "number" ? of[p] : p.c));
  }

  // Every operation's value from the leaves' (in reading order: inputs come first).
  function run(of) {
    for (let i = 0; i < N; i++) {
      const node = NODES[i];
      if (node.prim) of[i] = PRIMITIVES[node.prim].forward(...args(i, of));
    }
    return of;
  }

  function forward() {
    run(values);
    locals = NODES.map((node, i) =>
      node.prim ? PRIMITIVES[node.prim].local(...args(i, values), values[i]) : null);
  }

  // The graph at other leaf values ({index: number}), leaving the page's own as they are.
  function evaluate(overrides) {
    const of = values.slice();
    for (const [i, v] of Object.entries(overrides)) of[Number(i)] = v;
    return run(of);
  }

  // d output / d node after the first k steps (null: not reached), and each step's record.
  function backward(k) {
    const grads = new Array(N).fill(null);
    const records = [];
    for (let s = 0; s < k; s++) {
      const step = STEPS[s];
      if (s === 0) grads[step.node] = 1;  // the seed: d output / d output
      const upstream = grads[step.node];
      const sent = step.contributions.map((c) => {
        const local = locals[step.node][c.position];
        const contribution = upstream * local;
        const before = grads[c.parent];
        grads[c.parent] = (before === null ? 0 : before) + contribution;
        return { ...c, local, contribution, before, after: grads[c.parent] };
      });
      records.push({ upstream, sent });
    }
    return { grads, records };
  }

  // ------------------------------------------------------------ the drawing
  const svg = document.querySelector("[data-role=graph] svg");
  const byTitle = new Map();
  const edgesByKey = new Map();
  if (svg) {
    for (const g of svg.querySelectorAll("g.node, g.edge")) {
      const title = g.querySelector("title");
      if (!title) continue;
      if (g.classList.contains("node")) byTitle.set(title.textContent, g);
      else {  // "n3->n8_op", or from a port "n3:p->n8_op": keyed without ports
        const key = title.textContent.split("->").map((end) => end.split(":")[0]).join("->");
        if (!edgesByKey.has(key)) edgesByKey.set(key, []);
        edgesByKey.get(key).push(g);
      }
    }
    const defs = document.createElementNS(SVG_NS, "defs");
    defs.innerHTML = '<marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" ' +
      'markerWidth="7" markerHeight="7" orient="auto-start-reverse">' +
      '<path d="M 0 0 L 10 5 L 0 10 z" fill="#1f77b4"></path></marker>';
    svg.insertBefore(defs, svg.firstChild);
  }
  // A wide drawing (a network, left to right) takes the page's width, the panels go below.
  if (svg) {
    const box = svg.viewBox.baseVal;
    if (box && box.width / Math.max(1, box.height) > 2) document.body.classList.add("wide");
  }
  const element = NODES.map((node) => (node.svg ? byTitle.get(node.svg) || null : null));
  element.forEach((g, i) => {
    if (!g) return;
    g.classList.add("value");
    g.dataset.label = NODES[i].name;
    g.dataset.grad = "";
    g.dataset.index = String(i);
    g.addEventListener("click", () => select(i));
  });

  // The value node's texts: name, "data ...", "grad ..." (a record or a table alike).
  function setTexts(i, data, grad) {
    const g = element[i];
    if (!g) return;
    for (const text of g.querySelectorAll("text")) {
      if (text.textContent.startsWith("data ")) text.textContent = data;
      else if (text.textContent.startsWith("grad ")) text.textContent = grad;
    }
  }

  function edgeElements(parent, node) {
    const tail = NODES[parent].svg, head = NODES[node].svg;
    if (!tail || !head) return [];
    return edgesByKey.get(`${tail}->${head}_op`) || [];
  }

  // ------------------------------------------------------------ panels
  const $ = (selector) => document.querySelector(selector);
  const formulaBox = $("[data-role=formula]"), explainBox = $("[data-role=explain]");
  const stepLabel = $("[data-role=step]"), slider = $("[data-role=slider]");
  const errorBox = $("[data-role=error]");
  slider.max = String(STEPS.length);

  function lines(box, texts) {
    box.replaceChildren(...texts.map((t) => {
      const span = document.createElement("span");
      span.className = "line" + (t.muted ? " muted" : "");
      span.textContent = t.text !== undefined ? t.text : t;
      return span;
    }));
  }

  function forwardLines() {
    const leaves = NODES.map((n, i) => i).filter((i) => !NODES[i].prim);
    const out = [];
    if (leaves.length) out.push(leaves.map((i) => `${NODES[i].name} = ${fmt(values[i])}`)
      .join(", "));
    NODES.forEach((n, i) => {
      if (n.prim) out.push(`${n.name} = ${n.computation} = ${fmt(values[i])}`);
    });
    return out;
  }

  function stepLines(k, records) {
    const step = STEPS[k - 1], node = NODES[step.node], record = records[k - 1];
    const out = [`${node.name} = ${node.computation} = ${fmt(values[step.node])}`,
      `upstream d${OUT_NAME}/d${node.name} = ${fmt(record.upstream)}`];
    if (!record.sent.length) out.push({ text: "(constant inputs only: nothing to pass on)",
                                         muted: true });
    for (const c of record.sent) {
      const p = NODES[c.parent].name, number = fmt(c.local), up = fmt(record.upstream);
      // upstream × local: in symbols (where the local derivative has a formula), in numbers
      const chain = c.formula === number ? [`${up} · ${number}`]
        : [`${up} · ${c.formula}`, `${up} · ${number}`];
      out.push(`d${OUT_NAME}/d${p} += d${OUT_NAME}/d${node.name} · d${node.name}/d${p}`);
      out.push(`    = ${[...chain, fmt(c.contribution)].join(" = ")}`);
      out.push({ text: c.before === null ? `    d${OUT_NAME}/d${p} so far: ${fmt(c.after)}`
        : `    d${OUT_NAME}/d${p} so far: ${fmt(c.before)} → ${fmt(c.after)}`, muted: true });
    }
    if (k === STEPS.length) {
      out.push({ text: "Gradients (the pass is complete):", muted: true });
      const final = backward(STEPS.length).grads;
      NODES.forEach((n, i) => {
        if (!n.prim) out.push(`d${OUT_NAME}/d${n.name} = ${fmt(final[i] || 0)}`);
      });
    }
    return out;
  }

  // ------------------------------------------------------------ state and drawing of a step
  let current = 0, selected = null;

  function render() {
    const { grads, records } = backward(current);
    stepLabel.textContent = `${current} of ${STEPS.length}`;
    slider.value = String(current);
    const processed = new Set(STEPS.slice(0, Math.max(0, current - 1)).map((s) => s.node));
    const now = current > 0 ? STEPS[current - 1] : null;
    const receiving = new Set(now ? now.contributions.map((c) => c.parent) : []);
    const consumersDone = completeLeaves(current);
    element.forEach((g, i) => {
      if (!g) return;
      const grad = grads[i];
      setTexts(i, `data ${fmt(values[i])}`, grad === null ? "grad ·" : `grad ${fmt(grad)}`);
      g.dataset.grad = grad === null ? "" : String(grad);
      g.classList.toggle("current", now !== null && now.node === i);
      g.classList.toggle("receives", receiving.has(i));
      g.classList.toggle("done", !receiving.has(i) && (processed.has(i) || consumersDone.has(i)));
      g.classList.toggle("pending", grad === null);
    });
    for (const old of document.querySelectorAll("text.contribution")) old.remove();
    for (const g of document.querySelectorAll("g.edge.flow")) {
      g.classList.remove("flow");
      const path = g.querySelector("path");
      if (path) path.removeAttribute("marker-start");
    }
    if (now) {
      const seen = new Map();
      records[current - 1].sent.forEach((c) => {
        const key = `${c.parent}->${now.node}`;
        const k = seen.get(key) || 0;
        seen.set(key, k + 1);
        const g = edgeElements(c.parent, now.node)[k];
        if (g) flow(g, `+${fmt(c.contribution)}`);
      });
      if (NODES[now.node].svg) {
        const out = edgesByKey.get(`${NODES[now.node].svg}_op->${NODES[now.node].svg}`);
        if (out) flow(out[0], null);
      }
      $("[data-role=formula-title]").textContent =
        `Step ${current} of ${STEPS.length}: the chain rule at ${NODES[now.node].name}`;
      lines(formulaBox, stepLines(current, records));
    } else {
      $("[data-role=formula-title]").textContent = "Forward pass (step 0)";
      lines(formulaBox, [...forwardLines(), { text: STEPS.length
        ? `next › starts the backward pass at ${OUT_NAME}` : "nothing to differentiate",
        muted: true }]);
    }
    if (selected !== null) explainNode(selected);
  }

  // A leaf's gradient is complete once every operation that uses it has been processed.
  function completeLeaves(k) {
    const done = new Set(STEPS.slice(0, k).map((s) => s.node));
    const open = new Set();
    NODES.forEach((n, i) => {
      if (!n.prim) return;
      for (const p of n.parents) if (typeof p === "number" && !done.has(i)) open.add(p);
    });
    const complete = new Set();
    if (k === 0) return complete;
    NODES.forEach((n, i) => { if (!n.prim && !open.has(i)) complete.add(i); });
    return complete;
  }

  // The gradient flows back along an edge: coloured, the arrow at its start, the number sent.
  function flow(g, label) {
    g.classList.add("flow");
    const path = g.querySelector("path");
    if (!path) return;
    path.setAttribute("marker-start", "url(#flow-arrow)");
    if (label === null) return;
    // Beside the edge's middle, on the side away from its head: two edges that meet at
    // one operation get their numbers on their outer sides, never on top of each other.
    const length = path.getTotalLength();
    const point = path.getPointAtLength(length / 2);
    const head = path.getPointAtLength(length), tail = path.getPointAtLength(0);
    const flat = Math.abs(head.x - tail.x) > 2 * Math.abs(head.y - tail.y);
    const left = point.x <= head.x;
    const text = document.createElementNS(SVG_NS, "text");
    text.setAttribute("class", "contribution");
    text.setAttribute("x", String(flat ? point.x : point.x + (left ? -6 : 6)));
    text.setAttribute("y", String(flat ? point.y - 6 : point.y + 4));
    text.setAttribute("text-anchor", flat ? "middle" : (left ? "end" : "start"));
    text.textContent = label;
    g.appendChild(text);
  }

  function go(k) {
    current = Math.max(0, Math.min(STEPS.length, k));
    render();
  }

  // ------------------------------------------------------------ explain on a click
  function explainNode(i) {
    const entry = DATA.explanations[String(i)];
    for (const g of document.querySelectorAll(".on-path, .selected")) {
      g.classList.remove("on-path", "selected");
    }
    if (element[i]) element[i].classList.add("selected");
    if (!entry) {
      lines(explainBox, [`d${OUT_NAME}/d${NODES[i].name}: not written into this page`]);
      return;
    }
    if (entry.error) { lines(explainBox, [entry.error]); return; }
    for (const n of entry.onPath) if (element[n]) element[n].classList.add("on-path");
    const seen = new Map();
    for (const [n, position] of entry.links) {
      const p = NODES[n].parents[position];
      const key = `${p}->${n}`;
      const k = seen.get(key) || 0;
      seen.set(key, k + 1);
      const g = edgeElements(p, n)[k];
      if (g) g.classList.add("on-path");
    }
    const final = backward(STEPS.length).grads;
    // explain()'s text: the formula, its numbers (each path's factors), the gradient.
    const terms = entry.paths.map((path) => (path.length
      ? path.map(([n, position]) => fmt(locals[n][position])).join(" · ") : "1"));
    const numbers = terms.length === 0 ? "0" : terms.length === 1 ? terms[0]
      : terms.map((t) => (t.includes(" · ") ? `(${t})` : t)).join(" + ");
    const value = i === OUT ? 1 : (final[i] === null ? 0 : final[i]);
    const parts = [entry.symbols];
    for (const text of [numbers, fmt(value)]) if (text !== parts[parts.length - 1]) parts.push(text);
    const texts = [`${entry.head} = ${parts.join(" = ")}`];
    if (entry.where) texts.push({ text: `  where ${entry.where}`, muted: true });
    lines(explainBox, texts);
  }

  function select(i) {
    selected = i;
    explainNode(i);
  }

  // ------------------------------------------------------------ inputs
  const MAX_FIELDS = 200;
  const inputsBox = $("[data-role=inputs]");
  // Inputs first, then the parameters in their natural order (L1.N0.w0, L1.N0.w1, L1.N0.b).
  const natural = (a, b) => a.localeCompare(b, "en", { numeric: true });
  const parameterOrder = (a, b) => {  // by neuron, then its weights before its bias
    const [pa, la] = [a.slice(0, a.lastIndexOf(".") + 1), a.slice(a.lastIndexOf(".") + 1)];
    const [pb, lb] = [b.slice(0, b.lastIndexOf(".") + 1), b.slice(b.lastIndexOf(".") + 1)];
    return natural(pa, pb) || (/^[bB]/.test(la) - /^[bB]/.test(lb)) || natural(la, lb);
  };
  const isParameter = (name) => /(^|\.)[wWbB](_?\d+)?(_\d+)*$/.test(name);
  const leaves = NODES.map((n, i) => i).filter((i) => !NODES[i].prim);
  leaves.sort((a, b) => (isParameter(NODES[a].name) - isParameter(NODES[b].name)) ||
    (isParameter(NODES[a].name) ? parameterOrder(NODES[a].name, NODES[b].name) : a - b));
  for (const i of leaves.slice(0, MAX_FIELDS)) {
    const name = document.createElement("label");
    name.textContent = NODES[i].name;
    const field = document.createElement("input");
    field.type = "number";
    field.step = "any";
    field.value = String(values[i]);
    field.dataset.leaf = NODES[i].name;
    name.htmlFor = field.id = `leaf-${i}`;
    const range = document.createElement("input");
    range.type = "range";
    const span = Math.max(1, Math.abs(values[i])) * 2;
    range.min = String(values[i] - span);
    range.max = String(values[i] + span);
    range.step = String(span / 200);
    range.value = String(values[i]);
    range.dataset.leafRange = NODES[i].name;
    range.setAttribute("aria-label", `${NODES[i].name} slider`);
    field.addEventListener("input", () => setLeaf(i, field.value, range));
    range.addEventListener("input", () => { field.value = range.value; setLeaf(i, range.value, null); });
    inputsBox.append(name, field, range);
  }
  if (leaves.length > MAX_FIELDS) {
    $("[data-role=note]").textContent += `Fields for the first ${MAX_FIELDS} of ` +
      `${leaves.length} inputs. `;
  }

  function setLeaf(i, text, range) {
    const v = Number(text);
    if (text.trim() === "" || !Number.isFinite(v)) {
      errorBox.hidden = false;
      errorBox.textContent = `${NODES[i].name}: ${JSON.stringify(text)} is not a number`;
      return;
    }
    values[i] = v;
    if (range) range.value = String(v);
    recompute();
  }

  function recompute() {
    forward();
    const bad = NODES.findIndex((n, i) => n.prim && !Number.isFinite(values[i]));
    // (a constant input's slope is never used: pow's d/dexponent at a negative base is NaN)
    const badSlope = NODES.findIndex((n, i) => n.prim && locals[i].some(
      (d, position) => typeof n.parents[position] === "number" && !Number.isFinite(d)));
    if (bad >= 0) {
      errorBox.hidden = false;
      errorBox.textContent = `${NODES[bad].name} = ${NODES[bad].computation} is ` +
        `${fmt(values[bad])} at these inputs: outside the operation's domain`;
    } else if (badSlope >= 0) {
      errorBox.hidden = false;
      errorBox.textContent = `the local derivative of ${NODES[badSlope].name} = ` +
        `${NODES[badSlope].computation} is not a finite number at these inputs`;
    } else {
      errorBox.hidden = true;
      errorBox.textContent = "";
    }
    render();
  }

  // ------------------------------------------------------------ controls
  const actions = { first: () => go(0), prev: () => go(current - 1),
                    next: () => go(current + 1), last: () => go(STEPS.length) };
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => actions[button.dataset.action]());
  }
  slider.addEventListener("input", () => go(Number(slider.value)));
  document.addEventListener("keydown", (event) => {
    // In a field or on a slider the keys are the control's own (a caret, the epoch slider).
    if (event.target instanceof HTMLInputElement) return;
    const key = { ArrowLeft: "prev", ArrowRight: "next", Home: "first", End: "last" }[event.key];
    if (key) { event.preventDefault(); actions[key](); }
  });

  if (DATA.drawn < N) {
    $("[data-role=note]").textContent += `The drawing shows the ${DATA.drawn} nodes nearest ` +
      `${OUT_NAME}, of ${N}: every node is stepped through and explained in the panels. `;
  }

  // Several leaves at once (the replay's snapshot of an epoch): fields, then one recompute.
  function setLeaves(assignments) {
    for (const [i, v] of Object.entries(assignments)) {
      values[Number(i)] = v;
      const field = document.getElementById(`leaf-${i}`);
      if (field) {
        field.value = String(v);
        const range = field.nextElementSibling;
        if (range) range.value = String(v);
      }
    }
    recompute();
  }

  window.explorer = { fmt, go, get step() { return current; }, values, backward, select,
                      evaluate, setLeaves, nodes: NODES };
  recompute();
  if (DATA.replay && typeof window.replay === "function") window.replay(DATA, window.explorer);
})();
