// The admin's live match view: polls the staff-only JSON endpoint once a second and fills in
// the panel rendered by change_form.html, sparklines included (drawn here into the page's
// inline SVGs: nothing is fetched from elsewhere). Read-only; stops once the match is over.
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

  function round(value) {
    return Math.round(value * 100) / 100;
  }

  // One series of live.history into its figure's <svg>: x by wall time, y from 0 to the
  // series' maximum, so a flat line at the top means "as high as it got", not "high".
  function spark(figure, history) {
    var values = history[figure.dataset.series] || [];
    var at = history.at || [];
    var svg = figure.querySelector("svg");
    var line = svg.querySelector("polyline");
    var width = svg.viewBox.baseVal.width, height = svg.viewBox.baseVal.height, pad = 2;
    var unit = figure.dataset.unit ? " " + figure.dataset.unit : "";
    if (!values.length) {
      line.setAttribute("points", "");
      text(figure.querySelector(".spark-now"), null);
      return;
    }
    var max = Math.max.apply(null, values);
    var top = max || 1;  // all zeros: a line along the bottom
    var t0 = at[0], span = (at[at.length - 1] - t0) || 1;
    var points = values.map(function (v, i) {
      var x = values.length === 1 ? width : ((at[i] - t0) / span) * width;
      var y = height - pad - (v / top) * (height - 2 * pad);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    line.setAttribute("points", points.join(" "));
    text(figure.querySelector(".spark-now"), round(values[values.length - 1]) + unit);
    var over = span < 120 ? Math.round(span) + " s" : Math.round(span / 60) + " min";
    text(figure.querySelector(".spark-range"), "max " + round(max) + unit + " over " + over);
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
      root.querySelectorAll(".live-spark").forEach(function (f) { spark(f, live.history); });
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
