// Caly's API docs: renders /api/openapi.json and sends requests from the page. No libraries,
// no network beyond this server; text from the document is set with textContent, never as HTML.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function tryIt(method, path, operation) {
  const inputs = {};
  const params = el("div", { class: "params" });
  for (const p of operation.parameters || []) {
    inputs[p.name] = el("input", { placeholder: p.name, "aria-label": p.name });
    params.append(inputs[p.name]);
  }
  const example = operation.requestBody?.content?.["application/json"]?.example;
  const body = example === undefined ? null : el("textarea", { "aria-label": "request body" });
  if (body) body.value = JSON.stringify(example, null, 2);
  const output = el("pre", {}, "");
  const send = el("button", { type: "button" }, "Send");
  send.addEventListener("click", async () => {
    let url = path;
    for (const [name, input] of Object.entries(inputs)) {
      url = url.replace("{" + name + "}", encodeURIComponent(input.value));
    }
    const headers = { "content-type": "application/json" };
    const token = document.getElementById("token").value.trim();
    if (token) headers.authorization = "Bearer " + token;
    output.textContent = "…";
    try {
      const response = await fetch(url, { method: method.toUpperCase(), headers, body: body ? body.value : undefined });
      const text = await response.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
      output.textContent = response.status + " " + response.statusText + "\n" + shown;
    } catch (error) {
      output.textContent = "request failed: " + error;
    }
  });
  return el("div", {}, params, ...(body ? [body] : []), send, output);
}

async function main() {
  const spec = await (await fetch("/api/openapi.json")).json();
  document.getElementById("about").textContent = spec.info.description;
  const byTag = new Map();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const tag = operation.tags[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method, path, operation]);
    }
  }
  const root = document.getElementById("operations");
  root.replaceChildren();
  for (const [tag, operations] of byTag) {
    root.append(el("h2", {}, tag));
    for (const [method, path, operation] of operations) {
      const summary = el("summary", {},
        el("span", { class: "method " + method }, method), " ", el("code", {}, path), " — ", operation.summary);
      const details = el("details", {}, summary,
        el("p", { class: "role" }, operation.description),
        el("p", {}, "Answers " + Object.keys(operation.responses).join(", ") + "."));
      details.addEventListener("toggle", () => {
        if (details.open && !details.dataset.ready) {
          details.dataset.ready = "1";
          details.append(tryIt(method, path, operation));
        }
      }, { once: false });
      root.append(details);
    }
  }
}

main().catch((error) => {
  document.getElementById("operations").textContent = "Could not load the API document: " + error;
});
