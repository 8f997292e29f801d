// builder serve: live reload. Injected into pages at serve time only; never part of the built site.
(() => {
  "use strict";
  const script = document.currentScript;
  const served = Number(script.dataset.build);  // the build this page came from
  const session = script.dataset.session;
  const scrollKey = "builder-scroll:" + location.pathname + location.search;
  // Exposed for tests and curious developers: what this page knows about the builds.
  const state = window.__builder = { served, build: served, styles: served, problems: [], connected: false };

  const PANEL_CSS = `
    section { position: fixed; inset: auto 0 0 0; z-index: 2147483647; max-height: 60vh; overflow: auto;
      margin: 0; padding: 1rem 1.25rem; background: #ffffff; color: #1b1b1b; border-top: 6px solid #b3261e;
      box-shadow: 0 -4px 24px rgb(0 0 0 / 35%); font: 16px/1.5 system-ui, sans-serif; text-align: left; }
    h2 { margin: 0 0 .5rem; font-size: 1.15rem; color: #8c1d18; }
    ol { margin: 0; padding-left: 1.5rem; }
    li { margin: .5rem 0; }
    .where { font: 600 .95rem/1.4 ui-monospace, monospace; color: #8c1d18; word-break: break-all; }
    .hint { margin: .15rem 0 0; color: #3d3d3d; }
    .note { margin: .75rem 0 0; color: #3d3d3d; }
    button { margin-top: .5rem; font: inherit; padding: .25rem .9rem; color: #1b1b1b; background: #f1f1f1;
      border: 1px solid #5f5f5f; border-radius: 4px; cursor: pointer; }
    button:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }`;

  restoreScroll();
  const events = new EventSource(new URL("events", script.src));
  events.onopen = () => { state.connected = true; };
  events.onerror = () => { state.connected = false; };  // EventSource reconnects by itself
  events.onmessage = (message) => update(JSON.parse(message.data));

  function update(status) {
    state.build = status.build;
    state.problems = status.problems;
    if (status.problems.length) return showProblems(status.problems);  // the last good site stays as it is
    hideProblems();
    if (status.session !== session || status.pages > served) return reload();
    if (status.styles > state.styles) swapStylesheets(status.styles);
  }

  function reload() {
    sessionStorage.setItem(scrollKey, JSON.stringify([scrollX, scrollY]));
    events.close();
    location.reload();
  }

  function restoreScroll() {
    const saved = sessionStorage.getItem(scrollKey);
    if (saved === null) return;
    sessionStorage.removeItem(scrollKey);
    const [x, y] = JSON.parse(saved);
    history.scrollRestoration = "manual";
    scrollTo(x, y);
    addEventListener("load", () => scrollTo(x, y), { once: true });  // again once images have their size
  }

  function swapStylesheets(build) {
    state.styles = build;
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href);
      if (url.origin !== location.origin) continue;
      url.searchParams.set("__builder", String(build));
      const fresh = link.cloneNode();
      fresh.href = url.href;
      fresh.onload = fresh.onerror = () => link.remove();  // keep the old sheet until the new one applies
      link.after(fresh);
    }
  }

  function showProblems(problems) {
    let host = document.getElementById("__builder-problems");
    if (!host) {
      host = document.createElement("div");
      host.id = "__builder-problems";
      host.attachShadow({ mode: "open" });  // the page's styles cannot reach the panel, nor ours the page
      document.body.append(host);
    }
    const panel = element("section", { role: "alert", "aria-labelledby": "title" });
    const count = problems.length === 1 ? "1 problem" : problems.length + " problems";
    panel.append(element("h2", { id: "title" }, "The site could not be built: " + count));
    const list = element("ol");
    for (const problem of problems) {
      const item = element("li");
      const where = problem.line ? problem.path + ":" + problem.line : problem.path;
      const message = element("span", { class: "message" }, problem.message);
      item.append(element("code", { class: "where" }, where), " ", message);
      if (problem.hint) item.append(element("p", { class: "hint" }, "Hint: " + problem.hint));
      list.append(item);
    }
    const close = element("button", { type: "button" }, "Hide");
    close.onclick = () => host.remove();
    panel.append(list, element("p", { class: "note" }, "Fix the file and save: this page reloads by itself. "), close);
    host.shadowRoot.replaceChildren(element("style", {}, PANEL_CSS), panel);
  }

  function hideProblems() {
    document.getElementById("__builder-problems")?.remove();
  }

  function element(name, attributes = {}, text = "") {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text) node.textContent = text;  // never innerHTML: messages quote the user's files
    return node;
  }

})();
