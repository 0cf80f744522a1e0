// The composer: files in order (drag or arrow buttons to reorder), previews, counters,
// then one multipart request to the API; errors land next to their field.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form) return;
  var input = document.getElementById("media");
  var drop = document.getElementById("drop");
  var list = document.getElementById("previews");
  var files = [];
  var dragFrom = null;

  function render() {
    list.innerHTML = "";
    files.forEach(function (f, i) {
      var li = document.createElement("li");
      li.draggable = true;
      li.dataset.index = i;
      var url = URL.createObjectURL(f);
      var media = document.createElement(f.type.indexOf("video") === 0 ? "video" : "img");
      media.src = url;
      if (media.tagName === "IMG") media.alt = f.name;
      li.appendChild(media);
      var label = document.createElement("div");
      label.textContent = (i + 1) + ". " + f.name;
      li.appendChild(label);
      // The file's alt text travels with it when the files are reordered.
      var alt = document.createElement("input");
      alt.className = "alt-text";
      alt.placeholder = form.dataset.altPlaceholder || "Alt text";
      alt.setAttribute("aria-label", (form.dataset.altPlaceholder || "Alt text") + " " + (i + 1));
      alt.value = f.altText || "";
      alt.addEventListener("input", function () { f.altText = alt.value; });
      li.appendChild(alt);
      [["←", -1], ["→", 1], ["✕", 0]].forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b[0];
        btn.setAttribute("aria-label", b[1] === 0 ? "remove " + f.name : "move " + f.name);
        btn.addEventListener("click", function () {
          if (b[1] === 0) files.splice(i, 1);
          else {
            var j = i + b[1];
            if (j < 0 || j >= files.length) return;
            var t = files[i]; files[i] = files[j]; files[j] = t;
          }
          render();
        });
        li.appendChild(btn);
      });
      li.addEventListener("dragstart", function () { dragFrom = i; li.classList.add("dragging"); });
      li.addEventListener("dragend", function () { li.classList.remove("dragging"); });
      li.addEventListener("dragover", function (e) { e.preventDefault(); });
      li.addEventListener("drop", function (e) {
        e.preventDefault();
        e.stopPropagation();
        if (dragFrom === null || dragFrom === i) return;
        var moved = files.splice(dragFrom, 1)[0];
        files.splice(i, 0, moved);
        dragFrom = null;
        render();
      });
      list.appendChild(li);
    });
  }

  function add(fileList) {
    Array.prototype.forEach.call(fileList, function (f) { files.push(f); });
    render();
  }
  input.addEventListener("change", function () { add(input.files); input.value = ""; });

  // Snippets: those of the caption's language, for every group or a chosen one. One that
  // would take the caption past Instagram's hashtag limit is not inserted (the server
  // refuses such a caption anyway); the warning says why.
  var snippetBox = document.getElementById("snippets");
  var caption = document.getElementById("caption");
  function showSnippets() {
    if (!snippetBox) return;
    var lang = form.original_language.value;
    var chosen = {};
    form.querySelectorAll("input[name=group]:checked").forEach(function (g) { chosen[g.value] = true; });
    snippetBox.querySelectorAll("button.snippet").forEach(function (b) {
      b.hidden = b.dataset.language !== lang || (b.dataset.group !== "" && !chosen[b.dataset.group]);
    });
  }
  if (snippetBox) {
    form.original_language.addEventListener("change", showSnippets);
    form.querySelectorAll("input[name=group]").forEach(function (g) { g.addEventListener("change", showSnippets); });
    showSnippets();
    var warning = document.getElementById("snippet-warning");
    snippetBox.querySelectorAll("button.snippet").forEach(function (b) {
      b.addEventListener("click", function () {
        var at = caption.selectionStart === undefined ? caption.value.length : caption.selectionEnd;
        var before = caption.value.slice(0, at), after = caption.value.slice(at);
        var sep = before === "" || /\s$/.test(before) ? "" : (b.dataset.text.indexOf("#") === 0 ? "\n\n" : " ");
        var next = before + sep + b.dataset.text + after;
        var max = parseInt(document.body.getAttribute("data-caption-max-hashtags"), 10) || 5;
        var tags = window.icfCounts(next).tags;
        if (tags > max) {
          warning.textContent = snippetBox.dataset.over.replace("{n}", tags).replace("{max}", max);
          return;
        }
        warning.textContent = "";
        caption.value = next;
        caption.dispatchEvent(new Event("input"));
        caption.focus();
      });
    });
  }
  var coverInput = document.getElementById("cover");
  var coverPreview = document.getElementById("cover-preview");
  coverInput.addEventListener("change", function () {
    var f = coverInput.files[0];
    coverPreview.hidden = !f;
    if (f) coverPreview.src = URL.createObjectURL(f);
  });
  ["dragenter", "dragover"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    drop.addEventListener(t, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) add(e.dataTransfer.files);
  });

  function showError(field, message) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    var key = (field || "form").replace(/\[.*$/, "").replace(/\..*$/, "");
    var el = document.getElementById("err-" + key) || document.getElementById("err-form");
    el.textContent = message;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new FormData();
    files.forEach(function (f) { data.append("media", f, f.name); });
    data.append("caption", form.caption.value);
    data.append("original_language", form.original_language.value);
    var groups = Array.prototype.filter.call(form.querySelectorAll("input[name=group]"), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    data.append("target_groups", JSON.stringify(groups));
    data.append("fit", form.fit.value);
    if (form.media_type.value) data.append("media_type", form.media_type.value);
    if (files.some(function (f) { return (f.altText || "").trim(); }))
      files.forEach(function (f) { data.append("alt_text", f.altText || ""); });
    var v = function (id) { return document.getElementById(id).value.trim(); };
    var on = function (id) { return document.getElementById(id).checked; };
    if (v("first_comment")) data.append("first_comment", v("first_comment"));
    if (on("pin_first_comment")) data.append("pin_first_comment", "true");
    if (v("location_name") || v("location_lat") || v("location_lng")) {
      data.append("location", JSON.stringify({ name: v("location_name"),
        lat: parseFloat(v("location_lat")), lng: parseFloat(v("location_lng")) }));
    }
    var tags = v("usertags").split("\n").map(function (l) { return l.trim(); }).filter(Boolean)
      .map(function (l) {
        var p = l.split(/\s+/);
        return { username: p[0], x: parseFloat(p[1]), y: parseFloat(p[2]), media_index: parseInt(p[3] || "0", 10) };
      });
    if (tags.length) data.append("usertags", JSON.stringify(tags));
    var collaborators = v("collaborators").split(/[,\s]+/).filter(Boolean);
    if (collaborators.length) data.append("collaborators", JSON.stringify(collaborators));
    if (on("disable_comments")) data.append("disable_comments", "true");
    if (on("hide_like_counts")) data.append("hide_like_counts", "true");
    if (!on("share_to_feed")) data.append("share_to_feed", "false");
    var cover = document.getElementById("cover").files[0];
    if (cover) data.append("cover", cover, cover.name);
    if (v("cover_offset_ms")) data.append("cover_offset_ms", v("cover_offset_ms"));
    if (v("media_variants")) data.append("media_variants", v("media_variants"));
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    form.classList.add("htmx-request");
    fetch("/api/posts/", { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      })
      .then(function (res) {
        if (res.ok) {
          window.location.href = "/posts/" + res.body.id;
          return;
        }
        var err = res.body.error || {};
        showError(err.field, err.message || "error");
      })
      .catch(function (err) { showError("form", String(err)); })
      .finally(function () { button.disabled = false; form.classList.remove("htmx-request"); });
  });
})();
