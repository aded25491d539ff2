// Live regions: every page's [data-live] element is fetched again with ?fragment=1 every few seconds
// and replaced in place, with the same session cookie. A region whose form someone is filling in waits.
(function () {
  "use strict";
  var every = parseInt(document.body.getAttribute("data-refresh-ms"), 10) || 5000;
  function fragmentUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    return url.toString();
  }
  function refresh() {
    var region = document.querySelector("[data-live]");
    if (!region) { return; }
    var active = document.activeElement;
    if (active && region.contains(active) && active.tagName !== "BODY" && active.tagName !== "A") { return; }
    fetch(fragmentUrl(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) {
          window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search));
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          region.innerHTML = html;
          region.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, every);
})();
