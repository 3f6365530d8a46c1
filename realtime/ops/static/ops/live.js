// The admin's live match view: polls the staff-only JSON endpoint once a second and fills in
// the panel rendered by change_form.html. Read-only; stops once the match is over.
(function () {
  "use strict";
  var root = document.getElementById("live-view");
  if (!root) return;
  var url = root.dataset.url;
  var timer = null;

  function text(el, value) {
    if (el) el.textContent = value === null || value === undefined ? "—" : String(value);
  }

  function ago(wallSeconds) {
    if (!wallSeconds) return null;
    return Math.max(0, Math.round(Date.now() / 1000 - wallSeconds)) + " s ago";
  }

  function render(data) {
    var live = data.live;
    var m = data.match;
    var summary = "status " + m.status;
    if (live) {
      var s = live.stats || {};
      summary += " · tick " + live.tick + " · epoch " + live.epoch +
        " · " + (live.tick_rate === null ? "—" : live.tick_rate.toFixed(1)) + "/" + m.tick_hz + " ticks/s" +
        " · jitter p99 " + s.jitter_p99_ms + " ms · tick p99 " + s.duration_p99_ms + " ms" +
        " · overruns " + s.overruns + " · skipped " + s.skipped +
        " · pending inputs " + live.pending_inputs +
        " · lease " + (live.lease_holder || "none") +
        (live.stop_requested ? " · stop requested: " + live.stop_requested : "") +
        " · spectators (with RTT) " + live.spectators_with_rtt;
      text(document.getElementById("live-snapshot"), JSON.stringify(live.snapshot, null, 1));
    } else if (!m.over) {
      summary += " · no live state in Redis (not begun yet, or its keys were dropped)";
    }
    if (data.error) summary += " · " + data.error;
    text(document.getElementById("live-summary"), summary);
    text(document.getElementById("live-updated"), "updated " + new Date().toLocaleTimeString());
    var slots = {};
    if (live) live.slots.forEach(function (s) { slots[s.slot] = s; });
    data.participants.forEach(function (p) {
      var row = root.querySelector('tr[data-slot="' + p.slot + '"]');
      if (!row) return;
      var s = slots[p.slot];
      var socket = p.bot ? "bot" : p.left ? "left" : s ? (s.socket ? "open" : "closed") : (p.connected ? "open" : "closed");
      text(row.querySelector(".live-socket"), socket);
      text(row.querySelector(".live-away"), s ? ago(s.away_since) : null);
      text(row.querySelector(".live-rtt"), s && s.rtt_ms !== null ? s.rtt_ms + " ms" : null);
      text(row.querySelector(".live-score"), live && live.scores[p.slot] !== undefined ? live.scores[p.slot] : p.score);
    });
    if (m.over && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(render)
      .catch(function (err) { text(document.getElementById("live-updated"), "update failed: " + err); });
  }

  poll();
  timer = setInterval(poll, 1000);
})();
