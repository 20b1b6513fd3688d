// Live tail of the build log: server-sent events whose ids are byte offsets. The page was
// rendered up to data-offset; the stream goes on from there, and the browser's own
// reconnects resume with Last-Event-ID. Lines are added as text, never as HTML.
(function () {
  const log = document.getElementById("log");
  if (!log || log.dataset.live !== "true") return;
  const url = log.dataset.stream + "?offset=" + encodeURIComponent(log.dataset.offset);
  const events = new EventSource(url);
  events.addEventListener("log", (e) => {
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    log.appendChild(document.createTextNode(e.data + "\n"));
    log.dataset.offset = e.lastEventId;
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
  });
  events.addEventListener("end", () => {
    events.close();
    // The job ended: show its final status, downloads and buttons.
    setTimeout(() => window.location.reload(), 500);
  });
})();
