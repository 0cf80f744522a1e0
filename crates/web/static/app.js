// Small things every page needs: local times, auto-submitting selects, caption counters,
// and the live event stream.
(function () {
  "use strict";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) {
        el.textContent = d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
        el.title = el.getAttribute("datetime");
      }
    });
  }

  // Counts as the server does (icf_core::caption), near enough: characters in UTF-16 units
  // (an emoji counts 2), #hashtags in any script (not in links, not "&#39;"), @mentions of
  // Instagram usernames (ASCII letters, digits, "." and "_").
  var WORD = "\\p{L}\\p{N}\\p{M}_\\u200C\\u200D";
  var URL_RE = new RegExp("(^|[^" + WORD + "/])(?:https?://|www\\.)\\S+", "giu");
  var TAG_RE = new RegExp("(^|[^" + WORD + "&])[#\\uFF03][\\p{L}\\p{N}_][" + WORD + "]*", "gu");
  var MENTION_RE = new RegExp("(^|[^" + WORD + "])@[A-Za-z0-9._]*[A-Za-z0-9_]", "gu");
  function counts(text) {
    var prose = text.replace(URL_RE, "$1 ");
    return {
      chars: text.length,
      tags: (prose.match(TAG_RE) || []).length,
      mentions: (prose.match(MENTION_RE) || []).length
    };
  }
  window.icfCounts = counts;

  // The limits are the server's (ICF_MAX_HASHTAGS…), carried by <body data-caption-max-*>.
  function limit(name, fallback) {
    var n = parseInt(document.body.getAttribute("data-caption-max-" + name), 10);
    return isNaN(n) ? fallback : n;
  }

  function counter(area) {
    var out = document.getElementById(area.getAttribute("data-counter"));
    if (!out) return;
    var c = counts(area.value);
    function part(n, max, label) {
      var cls = n > max ? "over" : "";
      return '<span class="' + cls + '">' + n + "/" + max + " " + label + "</span>";
    }
    out.innerHTML = [part(c.chars, limit("chars", 2200), out.dataset.chars || "characters"),
      part(c.tags, limit("hashtags", 5), out.dataset.tags || "hashtags"),
      part(c.mentions, limit("mentions", 20), out.dataset.mentions || "mentions")].join(" · ");
  }

  // Progress bars: the width comes from data-percent (the CSP allows no inline style).
  function progress(root) {
    root.querySelectorAll("[data-percent]").forEach(function (bar) {
      var p = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-percent")) || 0));
      bar.style.width = p + "%";
    });
  }

  function init(root) {
    localTimes(root);
    progress(root);
    root.querySelectorAll("textarea[data-counter]").forEach(function (a) {
      counter(a);
      a.addEventListener("input", function () { counter(a); });
    });
    // A local date-time field carries its UTC offset for the chosen date (DST included).
    root.querySelectorAll("input[type=datetime-local][data-tz]").forEach(function (input) {
      var out = document.getElementById(input.getAttribute("data-tz"));
      function sync() {
        var d = new Date(input.value);
        out.value = isNaN(d) ? new Date().getTimezoneOffset() : d.getTimezoneOffset();
      }
      sync();
      input.addEventListener("change", sync);
    });
    root.querySelectorAll("input[data-check-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        var name = all.getAttribute("data-check-all");
        all.form.querySelectorAll("input[type=checkbox][name=" + name + "]").forEach(function (c) {
          c.checked = all.checked;
        });
      });
    });
    root.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.requestSubmit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });

  // Live updates: queue counts into [data-queue=waiting|running|retrying|failed]; execution
  // changes of this page's post make #executions reload.
  document.addEventListener("DOMContentLoaded", function () {
    var wantsQueue = document.querySelector("[data-queue]");
    var post = document.querySelector("[data-live-post]");
    if (!wantsQueue && !post) return;
    if (!window.EventSource) return;
    var source = new EventSource("/api/events");
    var pending = null;
    source.addEventListener("queue", function (e) {
      var q = JSON.parse(e.data);
      document.querySelectorAll("[data-queue]").forEach(function (el) {
        var v = q[el.getAttribute("data-queue")];
        if (v !== undefined) el.textContent = v;
      });
    });
    source.addEventListener("execution", function (e) {
      if (!post) return;
      var ev = JSON.parse(e.data);
      if (ev.post_id !== post.getAttribute("data-live-post")) return;
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        window.htmx && htmx.trigger(post, "live");
      }, 300);
    });
    window.addEventListener("beforeunload", function () { source.close(); });
  });
})();
