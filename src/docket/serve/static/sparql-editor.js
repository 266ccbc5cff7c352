// Put the YASGUI editor in place of the query form, with the form's query and the examples as tabs.
//
// Loaded only when static/vendor/yasgui.min.js is installed (make assets). Without JavaScript, or if
// YASGUI fails to start, the plain form stays and works. Everything talks to this server only: the
// endpoint is the form's, and the autocompleters that ask other hosts for vocabulary are left out.
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("query-form");
    var lib = window.Yasgui;
    var Yasgui = lib && (lib.default || lib);
    if (!form || typeof Yasgui !== "function") return;
    var textarea = form.querySelector("textarea[name=query]");
    var endpoint = new URL(form.getAttribute("data-endpoint") || form.getAttribute("action"), document.baseURI).href;

    var examples = Array.prototype.map.call(document.querySelectorAll("article.example"), function (article) {
      return { article: article, name: article.getAttribute("data-title"),
               query: article.querySelector(".example-query").textContent };
    });

    var holder = document.createElement("div");
    holder.id = "sparql-editor";
    holder.className = "sparql-editor";
    holder.setAttribute("role", "region");
    holder.setAttribute("aria-label", "SPARQL editor");
    form.parentNode.insertBefore(holder, form);

    // Only the completers that work offline: "property" and "class" ask lov.linkeddata.es. Set on the
    // defaults, because YASGUI merges arrays in a configuration item by item, keeping the rest.
    var offline = ["variables", "prefixes"];
    if (Yasgui.Yasqe && Yasgui.Yasqe.defaults) Yasgui.Yasqe.defaults.autocompleters = offline.slice();
    if (Yasgui.defaults && Yasgui.defaults.yasqe) Yasgui.defaults.yasqe.autocompleters = offline.slice();

    var yasgui;
    try {
      yasgui = new Yasgui(holder, {
        requestConfig: { endpoint: endpoint, method: "POST" },
        copyEndpointOnNewTab: true,
        autoAddOnInit: false,
        autofocus: false,
        persistenceId: null,  // each visit starts from the examples, not from another visit's tabs
        // A shared link (this page with #query=…) opens as a tab and runs, always against this endpoint.
        populateFromUrl: function (tab) { tab.requestConfig.endpoint = endpoint; return tab; },
        endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
        yasqe: { resizeable: true, editorHeight: "320px" },
      });
      // The first tab is the shared link's query if there is one, else the form's query, which is
      // the first example unless someone typed before this ran.
      var tabs = {};
      var shared = yasgui.getTab();
      var typed = !examples.length || textarea.value.trim() !== examples[0].query.trim();
      if (typed && !shared) {
        tabs.form = yasgui.addTab(true, { name: "Query", yasqe: { value: textarea.value },
                                          requestConfig: { endpoint: endpoint } });
      }
      examples.forEach(function (example, i) {
        tabs[i] = yasgui.addTab(!shared && !typed && i === 0, { name: example.name, yasqe: { value: example.query },
                                                                requestConfig: { endpoint: endpoint } });
      });
    } catch (error) {
      holder.remove();
      if (window.console) console.error("The SPARQL editor did not start; the plain form stays.", error);
      return;
    }
    form.hidden = true;
    holder.setAttribute("data-ready", "true");
    holder.setAttribute("data-endpoint", endpoint);

    // "Run this example" opens the example's tab in the editor and runs it there.
    examples.forEach(function (example, i) {
      var exampleForm = example.article.querySelector(".example-form");
      if (!exampleForm) return;
      exampleForm.addEventListener("submit", function (event) {
        var tab = tabs[i];
        if (!tab || !yasgui.getTab(tab.getId())) return;  // closed in the editor: plain submit
        event.preventDefault();
        yasgui.selectTabId(tab.getId());
        holder.scrollIntoView({ block: "start" });
        tab.query();
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
