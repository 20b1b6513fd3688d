// Keeps the queue table current: fetches this same page every few seconds and swaps in its
// table (server-rendered and escaped; parsed in an inert document, never executed).
(function () {
  const every = 3000;
  async function refresh() {
    try {
      const response = await fetch(window.location.href, { headers: { "Accept": "text/html" } });
      if (response.ok) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.getElementById("jobs");
        const current = document.getElementById("jobs");
        if (fresh && current) current.replaceWith(fresh);
      }
    } catch (e) {
      // The server is restarting or the network is down: try again later.
    }
    setTimeout(refresh, every);
  }
  setTimeout(refresh, every);
})();
