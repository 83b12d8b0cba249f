// The policy editor's check as you type: a progressive enhancement of the server-rendered
// form (without script, "Check policy" does the same). The document is posted to
// /console/policies/check, which answers `iamd policy check`'s findings as JSON; they are
// written with textContent only, never as markup.
"use strict";

(function () {
  const area = document.getElementById("document");
  const out = document.getElementById("live-findings");
  const csrf = document.querySelector("input[name=csrf]");
  if (!area || !out || !csrf) {
    return;
  }
  let timer = null;
  let sent = 0;

  function show(findings) {
    out.replaceChildren();
    const heading = document.createElement("p");
    heading.textContent = findings.length
      ? findings.length + (findings.length === 1 ? " finding" : " findings") + " as you type:"
      : "No errors or warnings.";
    out.appendChild(heading);
    if (!findings.length) {
      return;
    }
    const list = document.createElement("ul");
    for (const f of findings) {
      const item = document.createElement("li");
      item.className = f.severity;
      item.textContent =
        "Line " + f.line + ", column " + f.column + ": " + f.severity + ": " + f.message;
      list.appendChild(item);
    }
    out.appendChild(list);
  }

  async function check() {
    const mine = ++sent;
    const body = new URLSearchParams({
      csrf: csrf.value,
      document: area.value,
      kind: out.dataset.kind || "identity",
    });
    try {
      const answer = await fetch(out.dataset.checkUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
      });
      if (!answer.ok || mine !== sent) {
        return;
      }
      show((await answer.json()).findings);
    } catch (error) {
      // Offline or signed out: the form's own buttons still work.
    }
  }

  area.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
})();
