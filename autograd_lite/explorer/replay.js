// The training replay under the graph (explore(..., history=nn.fit(..., record=True),
// data=(X, y))): an epoch slider over the loss curve, each layer's gradient size, and for
// 2-D data the decision boundary, computed by the page's own forward code (the table's).
"use strict";
window.replay = function (DATA, explorer) {
  const R = DATA.replay, box = document.querySelector("[data-role=replay]");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const epochs = R.snapshots ? R.snapshots.length - 1 : 0;
  box.hidden = false;
  box.innerHTML = `<h2>Training replay</h2>
    <p><label>epoch <input type="range" data-role="epoch" min="0" max="${epochs}" value="${epochs}"
      aria-label="epoch"></label> <span data-role="epoch-label"></span></p>
    <div class="row">
      <figure><svg data-role="loss-curve" width="380" height="190"></svg>
        <figcaption>training loss per epoch (mean over the examples)</figcaption></figure>
      <figure><canvas data-role="boundary" width="240" height="240"></canvas>
        <figcaption>the model's output over the plane at this epoch; dots: the data</figcaption></figure>
      <figure><svg data-role="grad-sizes" width="300" height="190"></svg>
        <figcaption>mean |gradient| of each layer's parameters (the epoch's last step)</figcaption></figure>
    </div>`;
  const slider = box.querySelector("[data-role=epoch]");
  const label = box.querySelector("[data-role=epoch-label]");

  function el(name, attributes, parent) {
    const e = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  // ---------------------------------------------------------- the loss curve
  const curve = box.querySelector("[data-role=loss-curve]");
  const losses = R.loss || [];
  const W = 380, H = 190, left = 48, bottom = 28;
  const positive = losses.length && losses.every((v) => v > 0);
  const y = positive ? (v) => Math.log10(v) : (v) => v;
  const ys = losses.map(y), low = Math.min(...ys), high = Math.max(...ys);
  const X = (e) => left + (W - left - 10) * (losses.length > 1 ? (e - 1) / (losses.length - 1) : 0.5);
  const Y = (v) => 10 + (H - 10 - bottom) * (high > low ? (high - y(v)) / (high - low) : 0.5);
  el("line", { x1: left, y1: H - bottom, x2: W - 5, y2: H - bottom, stroke: "#888" }, curve);
  el("line", { x1: left, y1: 5, x2: left, y2: H - bottom, stroke: "#888" }, curve);
  if (losses.length) {
    el("polyline", { points: losses.map((v, k) => `${X(k + 1)},${Y(v)}`).join(" "),
                     fill: "none", stroke: "#1f77b4", "stroke-width": 2 }, curve);
    for (const [v, anchor] of [[Math.max(...losses), 15], [Math.min(...losses), H - bottom]]) {
      el("text", { x: left - 4, y: anchor, "text-anchor": "end", "font-size": 10 }, curve)
        .textContent = explorer.fmt(v, 3);
    }
    el("text", { x: W - 5, y: H - 8, "text-anchor": "end", "font-size": 10 }, curve)
      .textContent = `epoch ${losses.length}` + (positive ? " (loss on a log scale)" : "");
  }
  const marker = el("circle", { r: 5, fill: "#d62728", "data-role": "epoch-marker" }, curve);

  // ---------------------------------------------------------- gradient sizes per layer
  const sizesBox = box.querySelector("[data-role=grad-sizes]");
  const sizes = R.gradSizes || [];
  const layers = sizes.length ? Object.keys(sizes[0]) : [];
  const all = sizes.flatMap((s) => Object.values(s)).filter((v) => v > 0);
  const lo = Math.log10(Math.min(...all, 1)) - 0.5, hi = Math.log10(Math.max(...all, 1e-12)) + 0.2;

  function drawSizes(e) {
    sizesBox.replaceChildren();
    const at = sizes[Math.max(0, e - 1)];
    if (!at) return;
    layers.forEach((layer, k) => {
      const v = at[layer], yk = 12 + k * 28;
      const width = v > 0 ? 200 * (Math.log10(v) - lo) / (hi - lo) : 0;
      el("text", { x: 0, y: yk + 13, "font-size": 12 }, sizesBox).textContent = layer;
      el("rect", { x: 32, y: yk, width: Math.max(1, width), height: 18, fill: "#9ecae1",
                   "data-layer": layer, "data-size": v }, sizesBox);
      el("text", { x: 36 + Math.max(1, width), y: yk + 13, "font-size": 11 }, sizesBox)
        .textContent = explorer.fmt(v, 3);
    });
    sizesBox.setAttribute("height", String(20 + layers.length * 28));
  }

  // ---------------------------------------------------------- the decision boundary
  const canvas = box.querySelector("[data-role=boundary]");
  const points = R.points || [];
  if (!points.length || R.prediction === undefined) canvas.closest("figure").hidden = true;
  const threshold = points.length && Math.min(...R.labels) < 0 ? 0 : 0.5;
  const xs0 = points.map((p) => p[0]), xs1 = points.map((p) => p[1]);
  const x0min = Math.min(...xs0) - 0.5, x0max = Math.max(...xs0) + 0.5;
  const x1min = Math.min(...xs1) - 0.5, x1max = Math.max(...xs1) + 0.5;

  function predict(a, b) {
    return explorer.evaluate({ [R.inputs[0]]: a, [R.inputs[1]]: b })[R.prediction];
  }

  function drawBoundary() {
    if (!points.length || R.prediction === undefined) return;
    const ctx = canvas.getContext("2d"), cells = 60, size = canvas.width / cells;
    for (let i = 0; i < cells; i++) {
      for (let j = 0; j < cells; j++) {
        const a = x0min + (x0max - x0min) * (i + 0.5) / cells;
        const b = x1max - (x1max - x1min) * (j + 0.5) / cells;
        const p = predict(a, b), strength = Math.min(1, Math.abs(p - threshold) * 2);
        ctx.fillStyle = p > threshold ? `rgba(31,119,180,${0.15 + 0.5 * strength})`
          : `rgba(255,127,14,${0.15 + 0.5 * strength})`;
        ctx.fillRect(i * size, j * size, size + 0.5, size + 0.5);
      }
    }
    let right = 0;
    points.forEach(([a, b], k) => {
      const above = predict(a, b) > threshold, wanted = R.labels[k] > threshold;
      if (above === wanted) right++;
      ctx.beginPath();
      ctx.arc((a - x0min) / (x0max - x0min) * canvas.width,
              (x1max - b) / (x1max - x1min) * canvas.height, 4, 0, 2 * Math.PI);
      ctx.fillStyle = wanted ? "#1f77b4" : "#ff7f0e";
      ctx.fill();
      ctx.strokeStyle = "#222";
      ctx.stroke();
    });
    canvas.dataset.accuracy = String(right / points.length);
  }

  // ---------------------------------------------------------- one epoch
  function show(e) {
    if (R.snapshots) explorer.setLeaves(R.snapshots[e]);
    const loss = e >= 1 && losses.length ? losses[e - 1] : null;
    label.textContent = `epoch ${e} of ${epochs}` + (loss === null
      ? " (before training)" : `: mean loss ${explorer.fmt(loss)}`);
    if (loss !== null) {
      marker.setAttribute("cx", String(X(e)));
      marker.setAttribute("cy", String(Y(loss)));
      marker.setAttribute("visibility", "visible");
    } else marker.setAttribute("visibility", "hidden");
    drawSizes(e);
    drawBoundary();
    box.dataset.epoch = String(e);
  }

  slider.addEventListener("input", () => show(Number(slider.value)));
  show(epochs);
};
