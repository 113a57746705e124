/* s2t-explain explorer. Reads the JSON in <script id="data">, draws with <canvas>, no library.
 * Maps arrive quantized (uint8 per value, per-row lo/hi) and deflated; the browser's
 * DecompressionStream inflates them. Colours come from the embedded colour map (viridis). */
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null) continue;
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};
const fmt = (v, d = 3) => (v == null || !isFinite(v) ? "n/a" : Number.isInteger(v) && d === 3 ? String(v) : Number(v).toFixed(d));

async function inflate(b64) {
  const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/* A packed array -> {shape, rows: Float32Array per row (dequantized), lo, hi}. */
async function unpack(p) {
  const q = await inflate(p.data);
  const n = p.lo.length, len = q.length / n, rows = [];
  for (let r = 0; r < n; r++) {
    const out = new Float32Array(len), lo = p.lo[r], step = (p.hi[r] - p.lo[r]) / 255;
    for (let j = 0; j < len; j++) out[j] = lo + q[r * len + j] * step;
    rows.push(out);
  }
  return { ...p, rows };
}

function colormap(hex) {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) for (let c = 0; c < 3; c++) lut[i * 3 + c] = parseInt(hex.substr(i * 6 + c * 2, 2), 16);
  return lut;
}

/* Draw a (h x w) matrix (row-major, row 0 at the top) scaled to [lo, hi] into ``canvas``, which is
 * sized to its box: ``height`` CSS pixels tall, as wide as the page lets it be. */
function heat(canvas, values, h, w, lo, hi, lut, height) {
  const off = document.createElement("canvas");
  off.width = w; off.height = h;
  const octx = off.getContext("2d"), img = octx.createImageData(w, h), span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < h * w; i++) {
    const k = Math.max(0, Math.min(255, Math.round(((values[i] - lo) / span) * 255))) * 3;
    img.data[i * 4] = lut[k]; img.data[i * 4 + 1] = lut[k + 1]; img.data[i * 4 + 2] = lut[k + 2]; img.data[i * 4 + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  const dpr = window.devicePixelRatio || 1;
  canvas.style.height = height + "px";
  canvas.width = Math.max(50, Math.round(canvas.clientWidth * dpr));
  canvas.height = Math.round(height * dpr);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

function colorbar(lut, lo, hi, units, height = 100) {
  const c = el("canvas"); c.width = 1; c.height = 256; c.style.height = height + "px";
  const ctx = c.getContext("2d"), img = ctx.createImageData(1, 256);
  for (let i = 0; i < 256; i++) {
    const k = (255 - i) * 3;
    img.data.set([lut[k], lut[k + 1], lut[k + 2], 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return el("div", { class: "cbar", style: `height:${height}px` },
    el("div", { class: "inner" }, c, el("div", { class: "labels" },
      el("span", { class: "hi", text: fmt(hi, 4) }), el("span", { class: "units", text: units }),
      el("span", { class: "lo", text: fmt(lo, 4) }))));
}

function panel(id, title, sub) {
  const canvas = el("canvas", { class: "map", id: id, role: "img", "aria-label": title });
  const box = el("div", { class: "panel", id: id + "-panel" },
    el("div", { class: "title", text: title + " " }, el("span", { class: "muted", text: sub || "" })),
    el("div", { class: "plot" }, canvas, el("div", { class: "cbar-slot" })));
  return { box, canvas };
}

function setColorbar(p, lut, lo, hi, units) {
  const slot = p.box.querySelector(".cbar-slot");
  slot.replaceChildren(colorbar(lut, lo, hi, units, parseFloat(p.canvas.style.height) || 100));
}

function pearson(a, b) {
  const n = Math.min(a.length, b.length);
  if (n < 2) return NaN;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/* Resample a row to n entries (nearest), so rows of different blocks compare on one time axis. */
function resample(row, n) {
  if (row.length === n) return row;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = row[Math.min(row.length - 1, Math.floor((i * row.length) / n))];
  return out;
}

function curveChart(curve, title) {
  const c = el("canvas", { class: "curve", width: 640, height: 260, role: "img", "aria-label": title });
  const ctx = c.getContext("2d"), W = 640, H = 260, pad = 44;
  ctx.font = "20px sans-serif"; ctx.fillStyle = "#5d6070"; ctx.strokeStyle = "#999";
  ctx.strokeRect(pad, 10, W - pad - 10, H - pad - 10);
  const maxN = Math.max(1, ...curve.map((p) => p[0]));
  const x = (n) => pad + ((W - pad - 10) * n) / maxN, y = (r) => 10 + (H - pad - 10) * (1 - Math.max(0, Math.min(1, r)));
  ctx.setLineDash([6, 6]); ctx.beginPath(); ctx.moveTo(pad, y(0.5)); ctx.lineTo(W - 10, y(0.5)); ctx.stroke(); ctx.setLineDash([]);
  ctx.strokeStyle = "#1f5fbf"; ctx.lineWidth = 3; ctx.beginPath();
  curve.forEach((p, i) => (i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1]))));
  ctx.stroke();
  ctx.fillStyle = "#1f5fbf";
  for (const p of curve) { ctx.beginPath(); ctx.arc(x(p[0]), y(p[1]), 5, 0, 2 * Math.PI); ctx.fill(); }
  ctx.fillStyle = "#5d6070";
  ctx.fillText("1", 8, 28); ctx.fillText("0.5", 4, y(0.5) + 6); ctx.fillText("0", 8, H - pad + 4);
  ctx.fillText("masks: " + maxN, W - 190, H - 12); ctx.fillText("split-half reliability", pad + 6, H - 12);
  return c;
}

/* ------------------------------------------------------------------ one utterance */
async function utterancePage(D) {
  const lut = colormap(D.colormap), grey = colormap(D.greys);
  const root = $("#app");
  const M = {};
  for (const [k, v] of Object.entries(D.maps)) M[k] = await unpack(v);
  const n = D.tokens.length, L = D.layers, H = D.heads, T = D.time;
  const speech = T.n_encoder_frames * T.encoder_seconds;
  const MAP_H = 150, ROWS_H = Math.max(90, Math.min(260, 14 * n)); // panel heights (CSS pixels)
  const state = { token: 0, agg: D.alignment_heads.length ? "alignment" : "all", source: Object.keys(D.words)[0] };

  if (D.back) root.append(el("a", { href: D.back, id: "back", class: "noprint", text: "← study" }));
  const name = D.meta.audio.split(/[\\/]/).pop();
  root.append(el("h1", { text: "s2t-explain · " + name, title: D.meta.audio }),
    el("div", { class: "muted", text: `${D.meta.model} · ${D.meta.task}` + (D.meta.language ? ` (${D.meta.language})` : "") +
      ` · ${fmt(D.meta.duration, 2)} s · "${D.meta.text.trim()}"` }));
  const notes = el("div", { id: "notes" });
  for (const t of D.notes) notes.append(el("div", { class: "note", text: t }));
  root.append(notes);
  if (!n) return;

  // audio and cursor
  const audio = D.audio ? el("audio", { controls: "", src: D.audio, id: "audio", preload: "auto" }) : null;
  root.append(el("div", { class: "row noprint" }, audio || el("span", { class: "note", text: D.audio_note }),
    el("button", { class: "play", id: "play-token", text: "▶ play token", disabled: audio ? null : "" }),
    el("span", { id: "help", class: "muted", text: "click a token: show and play it · ← →: move · p: play again" })));
  if (!audio) $("#play-token").disabled = true;

  // tokens and words
  root.append(el("h2", { text: "Tokens" }));
  const SOURCE = Object.fromEntries((D.map_list || []).map((c) => [c.name, c.label]));
  const SHOWN = new Set((D.map_list || []).filter((c) => c.family !== "method").map((c) => c.name)); // chips: CA, SPES
  const sources = Object.keys(D.words);
  const srcSel = el("select", { id: "word-source", "aria-label": "word timestamps from" },
    ...sources.map((s) => el("option", { value: s, text: "shade and play words timed by " + (SOURCE[s] || s) })));
  root.append(el("div", { class: "row" }, sources.length ? srcSel : el("span", { class: "muted", text: "no word timestamps" }),
    el("span", { class: "muted", text: sources.length ? "under each word's first token: its start–end (s) by " +
      sources.map((s) => SOURCE[s] || s).join(", ") : "" })));
  const chips = el("div", { id: "chips", role: "listbox", "aria-label": "tokens" });
  D.tokens.forEach((t, i) => chips.append(el("button", { class: "chip", "data-i": i, "aria-pressed": "false",
    title: `p = ${fmt(t.prob)}`, onclick: () => { select(i); playToken(); } }, el("span", { class: "t", text: t.text }),
    ...sources.map((s) => el("span", { class: "w", "data-source": s })))));
  root.append(chips);

  // aggregation and correlation
  root.append(el("h2", { text: "Selected token" }));
  const aggSel = el("select", { id: "aggregation", "aria-label": "cross-attention heads" });
  aggSel.append(el("option", { value: "all", text: "all heads, all layers" }));
  if (D.alignment_heads.length) aggSel.append(el("option", { value: "alignment", text: `alignment heads (${D.alignment_heads.length})` }));
  for (let l = 0; l < L; l++) aggSel.append(el("option", { value: "layer:" + l, text: `layer ${l + 1} (all heads)` }));
  aggSel.append(el("option", { value: "head", text: "one head (pick in the grid)", id: "head-option" }));
  aggSel.value = state.agg;
  root.append(el("div", { class: "row" }, el("label", { text: "cross-attention: " }, aggSel), el("span", { id: "corr" })));

  // panels, top to bottom on one time axis
  const panels = {};
  const add = (key, title, sub) => { panels[key] = panel(key, title, sub); root.append(panels[key].box); };
  if (M.spectrogram) add("spectrogram", "Spectrogram", "(cursor: playback; shaded: the token's word)");
  if (M.input) add("input", "SM_X", "input saliency of the token over the spectrogram");
  if (M.encoder) add("encoder", "SM_H", "encoder-output saliency, all tokens (selected outlined; colour bar: its range)");
  add("attention", "Cross-attention", "all tokens (selected outlined; colour bar: its range)");
  root.append(el("div", { class: "axis" }, el("span", { text: "0 s" }), el("span", { text: fmt(speech / 2, 2) + " s" }),
    el("span", { text: fmt(speech, 2) + " s" })));

  // every map the result holds, one at a time: its own colour bar, and this token's r with the others
  const choices = D.map_list || [];
  const LABEL = Object.fromEntries(choices.map((c) => [c.name, c.label]));
  state.map = choices.length ? (choices.find((c) => c.name !== "attention") || choices[0]).name : null;
  const mapSel = el("select", { id: "map-select", "aria-label": "explanation map" },
    ...choices.map((c) => el("option", { value: c.name, text: `${c.label} · ${c.name} (${c.grain})` })));
  if (state.map) {
    root.append(el("h2", { text: "Maps" }), el("div", { class: "row" }, el("label", { text: "map: " }, mapSel),
      el("span", { id: "map-corr" })));
    add("chosen", "Chosen map", "all tokens (selected outlined; colour bar: the selected token's range)");
    mapSel.value = state.map;
    mapSel.addEventListener("change", () => { state.map = mapSel.value; draw(); });
  }

  // head grid
  const agreeWith = D.agreement.encoder ? "encoder" : D.agreement.input ? "input" : null;
  root.append(el("h2", { text: "Heads" }), el("div", { class: "muted", text: agreeWith
    ? `Pearson r of each head's cross-attention with ${agreeWith === "encoder" ? "SM_H" : "SM_X (pooled)"} over all tokens (z-scored per token). Click a head to show it; outlined: alignment heads.`
    : "No saliency in this result: the grid shows heads without agreement values. Click a head to show it." }));
  const grid = el("table", { id: "grid" });
  grid.append(el("tr", {}, el("th", { text: "layer \\ head" }), ...Array.from({ length: H }, (_, h) => el("th", { text: h + 1 }))));
  for (let l = 0; l < L; l++) {
    const tr = el("tr", {}, el("th", { text: l + 1 }));
    for (let h = 0; h < H; h++) {
      const r = agreeWith ? D.agreement[agreeWith][l][h] : null;
      const td = el("td", { "data-l": l, "data-h": h, text: r == null ? "·" : fmt(r, 2), title: `layer ${l + 1}, head ${h + 1}` });
      if (r != null) {
        const k = Math.round(((Math.max(-1, Math.min(1, r)) + 1) / 2) * 255) * 3;
        td.style.background = `rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]})`;
        td.style.color = k > 128 * 3 ? "#000" : "#fff";
      }
      if (D.alignment_heads.some(([a, b]) => a === l && b === h)) td.classList.add("align");
      td.addEventListener("click", () => { state.head = [l, h]; aggSel.value = "head"; state.agg = "head"; draw(); });
      tr.append(td);
    }
    grid.append(tr);
  }
  root.append(grid);
  if (agreeWith) root.append(el("div", { class: "row" }, el("span", { class: "muted", text: "colour: r from -1 to 1" }),
    colorbar(lut, -1, 1, "Pearson r", 60)));

  // metadata
  root.append(el("h2", { text: "Run" }));
  const kv = el("table", { class: "kv" });
  const addKV = (k, v) => kv.append(el("tr", {}, el("td", { text: k }), el("td", { text: v })));
  addKV("model", D.meta.model); addKV("audio", name);
  addKV("scorer / estimator / seed", [D.meta.scorer, D.meta.estimator, D.meta.seed].map((x) => x ?? "n/a").join(" / "));
  for (const k of ["input", "encoder"]) if (M[k]) addKV(k === "input" ? "SM_X" : "SM_H",
    `${M[k].masks ?? "?"} masks, split-half reliability ${fmt(M[k].reliability)}` + (M[k].reliability != null && M[k].reliability < 0.5 ? " (LOW: mostly noise)" : ""));
  addKV("timings (s)", Object.entries(D.meta.timings).map(([k, v]) => `${k} ${v}`).join(", ") || "n/a");
  addKV("device", D.meta.device ?? "n/a");
  root.append(kv);
  if (D.meta.options) root.append(el("details", {}, el("summary", { text: "all saliency options" }),
    el("pre", { text: JSON.stringify(D.meta.options, null, 1) })));
  const curves = el("div", { class: "row" });
  for (const k of ["input", "encoder"]) if (M[k] && M[k].curve && M[k].curve.length)
    curves.append(el("figure", {}, curveChart(M[k].curve, k), el("figcaption", { text: (k === "input" ? "SM_X" : "SM_H") + ": reliability as masks accumulated (dashed: 0.5)" })));
  root.append(curves);

  // ------------------------------------------------------------ drawing
  function headSet() {
    if (state.agg === "all") return [...Array(L * H).keys()].map((i) => [Math.floor(i / H), i % H]);
    if (state.agg === "alignment") return D.alignment_heads;
    if (state.agg.startsWith("layer:")) { const l = +state.agg.slice(6); return [...Array(H).keys()].map((h) => [l, h]); }
    return [state.head || [L - 1, 0]];
  }
  function attentionRows() { // (n rows of T'_d) for the chosen heads
    const A = M.attention, w = A.shape[3], heads = headSet(), out = [];
    for (let i = 0; i < n; i++) {
      const row = new Float32Array(w);
      for (const [l, h] of heads) { const src = A.rows[(l * H + h) * n + i]; for (let t = 0; t < w; t++) row[t] += src[t] / heads.length; }
      out.push(row);
    }
    return out;
  }
  function matrix(rows, normalize) { // rows -> flat (n x w); normalize: per-row min-max
    const w = rows[0].length, flat = new Float32Array(rows.length * w);
    rows.forEach((r, i) => {
      let lo = Infinity, hi = -Infinity; for (const v of r) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      for (let t = 0; t < w; t++) flat[i * w + t] = normalize ? (hi > lo ? (r[t] - lo) / (hi - lo) : 0) : r[t];
    });
    return flat;
  }
  function outline(canvas, i, rowsN) { // the selected row: black and white frame (visible on any colour)
    const ctx = canvas.getContext("2d"), h = canvas.height / rowsN, dpr = window.devicePixelRatio || 1;
    ctx.lineWidth = 3 * dpr; ctx.strokeStyle = "#000"; ctx.strokeRect(1.5 * dpr, i * h, canvas.width - 3 * dpr, h);
    ctx.lineWidth = 1 * dpr; ctx.strokeStyle = "#fff"; ctx.strokeRect(1.5 * dpr, i * h, canvas.width - 3 * dpr, h);
  }
  function tokenSpan(i) {
    const words = D.words[state.source] || [];
    const w = words.find((x) => x.tokens.includes(i));
    return w ? [w.start, w.end] : null;
  }
  function draw() {
    const i = state.token;
    state.span = tokenSpan(i);
    chips.querySelectorAll(".chip").forEach((c, j) => c.setAttribute("aria-pressed", j === i ? "true" : "false"));
    $("#head-option").textContent = state.head ? `layer ${state.head[0] + 1}, head ${state.head[1] + 1}` : "one head (pick in the grid)";
    grid.querySelectorAll("td").forEach((td) => td.classList.toggle("sel",
      state.agg === "head" && state.head && +td.dataset.l === state.head[0] && +td.dataset.h === state.head[1]));
    if (M.spectrogram) { cursor(); setColorbar(panels.spectrogram, grey, M.spectrogram.lo[0], M.spectrogram.hi[0], M.spectrogram.units); }
    if (M.input) {
      const X = M.input, [, t, f] = X.shape, flip = new Float32Array(t * f);
      for (let b = 0; b < f; b++) for (let x = 0; x < t; x++) flip[(f - 1 - b) * t + x] = X.rows[i][x * f + b];
      heat(panels.input.canvas, flip, f, t, X.lo[i], X.hi[i], lut, MAP_H);
      setColorbar(panels.input, lut, X.lo[i], X.hi[i], X.units);
    }
    if (M.encoder) {
      const E = M.encoder;
      heat(panels.encoder.canvas, matrix(E.rows, true), n, E.shape[1], 0, 1, lut, ROWS_H);
      outline(panels.encoder.canvas, i, n);
      setColorbar(panels.encoder, lut, E.lo[i], E.hi[i], E.units + " (rows scaled per token)");
    }
    const ca = attentionRows();
    let lo = Infinity, hi = -Infinity; for (const v of ca[i]) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    heat(panels.attention.canvas, matrix(ca, true), n, ca[0].length, 0, 1, lut, ROWS_H);
    outline(panels.attention.canvas, i, n);
    setColorbar(panels.attention, lut, lo, hi, "attention weight (rows scaled per token)");
    // correlations of the selected token's rows, on the encoder-frame axis
    const parts = [];
    const w = ca[i].length;
    if (M.encoder) parts.push(["CA vs SM_H", pearson(ca[i], resample(M.encoder.rows[i], w))]);
    if (M.input_pooled) parts.push(["CA vs SM_X", pearson(ca[i], resample(M.input_pooled.rows[i], w))]);
    if (M.encoder && M.input_pooled) parts.push(["SM_X vs SM_H", pearson(resample(M.input_pooled.rows[i], w), resample(M.encoder.rows[i], w))]);
    $("#corr").replaceChildren(...(parts.length ? parts.flatMap(([k, r], j) => [el("span", { text: (j ? " · " : "this token: ") + `${k} r = ` }), el("b", { "data-pair": k, text: fmt(r) })])
      : [el("span", { class: "muted", text: "no saliency: no correlation to show" })]));
    if (state.map) drawChosen(i);
    chips.querySelectorAll(".chip").forEach((c, j) => c.querySelectorAll(".w").forEach((w) => {
      const word = D.words[w.dataset.source].find((x) => x.tokens[0] === j);
      w.textContent = word ? `${SOURCE[w.dataset.source] || ""} ${fmt(word.start, 2)}–${fmt(word.end, 2)}` : " ";
      w.hidden = !(SHOWN.has(w.dataset.source) || w.dataset.source === state.source);
    }));
  }
  function drawChosen(i) { // the selected map over all tokens, and the token's r with every other map over time
    const C = M["map:" + state.map], w = C.shape[1];
    heat(panels.chosen.canvas, matrix(C.rows, true), n, w, 0, 1, lut, ROWS_H);
    outline(panels.chosen.canvas, i, n);
    setColorbar(panels.chosen, lut, C.lo[i], C.hi[i], `${C.units} (rows scaled per token)`);
    panels.chosen.box.querySelector(".title").firstChild.textContent = `${C.label} (${state.map}, ${C.grain}) `;
    const others = C.grain === "token" ? [] : choices.filter((c) => c.name !== state.map && c.grain !== "token");
    $("#map-corr").replaceChildren(...(others.length ? others.flatMap((c, j) => {
      const O = M["map:" + c.name], m = Math.max(w, O.shape[1]);
      return [el("span", { text: (j ? " · " : "this token: r with ") + `${LABEL[c.name]} = ` }),
        el("b", { "data-map-pair": c.name, text: fmt(pearson(resample(C.rows[i], m), resample(O.rows[i], m))) })];
    }) : [el("span", { class: "muted", text: C.grain === "token" ? "a map over tokens: no time axis to correlate"
      : "no other map over time to correlate with" })]));
  }
  const spec = M.spectrogram ? (() => { // (F_d x T_d), low bins at the bottom
    const S = M.spectrogram, [, t, f] = S.shape, flip = new Float32Array(t * f);
    for (let b = 0; b < f; b++) for (let x = 0; x < t; x++) flip[(f - 1 - b) * t + x] = S.rows[0][x * f + b];
    return { flip, t, f };
  })() : null;
  function cursor() { // the spectrogram with the token's word shaded and the playback position
    if (!spec) return;
    const c = panels.spectrogram.canvas, ctx = c.getContext("2d"), S = M.spectrogram;
    heat(c, spec.flip, spec.f, spec.t, S.lo[0], S.hi[0], grey, MAP_H);
    const X = (s) => (s / speech) * c.width;
    if (state.span) { ctx.fillStyle = "rgba(31,95,191,0.28)"; ctx.fillRect(X(state.span[0]), 0, X(state.span[1]) - X(state.span[0]), c.height); }
    if (audio && audio.currentTime > 0) { ctx.fillStyle = "#ff3b30"; ctx.fillRect(X(audio.currentTime), 0, Math.max(1, c.width / 300), c.height); }
  }
  function select(i) { state.token = Math.max(0, Math.min(n - 1, i)); draw(); chips.children[state.token].focus({ preventScroll: true }); }
  function playToken() {
    if (!audio || !state.span) return;
    audio.currentTime = state.span[0];
    const stop = state.span[1];
    // a play() that a later click's pause() interrupts rejects with AbortError: expected, not an error
    audio.play().catch((e) => { if (e.name !== "AbortError") console.error(e); });
    const watch = () => { if (audio.currentTime >= stop) audio.pause(); else if (!audio.paused) requestAnimationFrame(watch); };
    requestAnimationFrame(watch);
  }
  aggSel.addEventListener("change", () => { state.agg = aggSel.value; if (state.agg === "head" && !state.head) state.head = [L - 1, 0]; draw(); });
  srcSel.addEventListener("change", () => { state.source = srcSel.value; draw(); });
  $("#play-token").addEventListener("click", playToken);
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight") { select(state.token + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { select(state.token - 1); e.preventDefault(); }
    else if (e.key === "p") playToken();
  });
  if (audio) {
    const tick = () => { cursor(); if (!audio.paused) requestAnimationFrame(tick); };
    audio.addEventListener("play", () => requestAnimationFrame(tick));
    audio.addEventListener("seeked", cursor);
  }
  draw();
  window.addEventListener("resize", draw);
}

/* ------------------------------------------------------------------ a study */
function studyPage(D) {
  const root = $("#app");
  root.append(el("h1", { text: "s2t-explain study · " + D.name }), el("div", { class: "muted", text: D.summary }));
  for (const t of D.notes) root.append(el("div", { class: "note", text: t }));
  for (const tb of D.tables) {
    root.append(el("h2", { text: tb.title }));
    if (tb.caption) root.append(el("div", { class: "muted", text: tb.caption }));
    root.append(table(tb.rows, tb.columns, tb.sortable, tb.id));
  }
  if (D.figures.length) root.append(el("h2", { text: "Figures" }));
  for (const f of D.figures) root.append(el("figure", {}, el("img", { src: f.src, alt: f.caption }), el("figcaption", { text: f.caption })));
}

function table(rows, columns, sortable, id) {
  const t = el("table", { id: id || null });
  if (!rows.length) return el("div", { class: "muted", text: "(none)" });
  const head = el("tr", {});
  const body = el("tbody");
  const render = () => body.replaceChildren(...rows.map((r) => el("tr", {}, ...columns.map((c) => {
    const v = r[c];
    const td = el("td", { class: typeof v === "number" ? "num" : "" });
    if (c === "id" && r.href) td.append(el("a", { href: r.href, text: v })); else td.textContent = typeof v === "number" ? fmt(v) : v ?? "";
    return td;
  }))));
  columns.forEach((c) => {
    const th = el("th", { text: c, class: sortable ? "sortable" : "" });
    if (sortable) th.addEventListener("click", () => {
      const dir = th.dataset.dir === "asc" ? -1 : 1;
      head.querySelectorAll("th").forEach((x) => delete x.dataset.dir);
      th.dataset.dir = dir === 1 ? "asc" : "desc";
      rows.sort((a, b) => {
        const x = a[c], y = b[c];
        if (x == null) return 1; if (y == null) return -1;
        return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * dir;
      });
      render();
    });
    head.append(th);
  });
  t.append(el("thead", {}, head), body);
  render();
  return t;
}

window.addEventListener("DOMContentLoaded", async () => {
  const D = JSON.parse($("#data").textContent);
  try {
    if (D.kind === "study") studyPage(D); else await utterancePage(D);
    document.body.dataset.ready = "true";
  } catch (err) {
    $("#app").append(el("div", { class: "note", text: "This page could not be drawn: " + err }));
    document.body.dataset.ready = "error";
    throw err;
  }
});
