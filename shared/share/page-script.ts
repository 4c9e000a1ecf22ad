/**
 * The share page's only script, inline (allowed by its hash in the CSP), so constant: what changes per page (the
 * events path, the stream id the render stands at) it reads from `<main>`'s data attributes. It keeps the page
 * live from the share's event stream; the page reads the same without it. It sets `data-stream` on `<main>`
 * ("connected", "reconnecting", "ended") so a reader's tools, and tests, can tell where the stream stands.
 */
export const PAGE_SCRIPT = `
(function () {
  "use strict";
  var main = document.getElementById("share");
  var conversation = document.getElementById("conversation");
  if (!main || !conversation || typeof EventSource !== "function") return;
  var eventsPath = main.getAttribute("data-events") || "";
  var lastEventId = main.getAttribute("data-last-event-id") || "";

  function localizeTimes(root) {
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var date = new Date(times[i].getAttribute("datetime"));
      if (!isNaN(date.getTime())) times[i].textContent = date.toLocaleString();
    }
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var element = template.content.firstElementChild;
    if (element) localizeTimes(element);
    return element;
  }

  function atBottom() {
    var page = document.documentElement;
    return window.innerHeight + window.scrollY >= page.scrollHeight - 48;
  }

  /* Keeps a reader who was following the end at the end. */
  function change(apply) {
    var pinned = atBottom();
    apply();
    if (pinned) window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function putMessage(id, html) {
    var next = parse(html);
    if (!next) return;
    var current = document.getElementById("m-" + id);
    if (current) return current.replaceWith(next);
    /* Ids sort in creation order; new messages nearly always go last, so search from the end. */
    var before = null;
    for (var node = conversation.lastElementChild; node; node = node.previousElementSibling) {
      if (node.id.slice(0, 2) === "m-" && node.id.slice(2) > id) before = node;
      else break;
    }
    conversation.insertBefore(next, before);
  }

  function removeMessage(id) {
    var current = document.getElementById("m-" + id);
    if (current) current.remove();
  }

  function putHeader(html) {
    var next = parse(html);
    var current = document.getElementById("share-header");
    if (next && current) current.replaceWith(next);
  }

  function unshared(source) {
    source.close();
    main.setAttribute("data-stream", "ended");
    var notice = document.createElement("p");
    notice.className = "notice";
    notice.textContent = "This session is no longer shared.";
    conversation.replaceChildren(notice);
    var busy = document.querySelectorAll("#share-header .busy");
    for (var i = 0; i < busy.length; i++) busy[i].remove();
  }

  localizeTimes(document);
  var source = new EventSource(eventsPath + "?lastEventId=" + encodeURIComponent(lastEventId));
  source.onerror = function () {
    if (main.getAttribute("data-stream") === "ended") return;
    // Refused for good (404: unshared while this page was away): the reload shows what the link is now.
    if (source.readyState === EventSource.CLOSED) return location.reload();
    main.setAttribute("data-stream", "reconnecting");
  };
  source.onmessage = function (frame) {
    var event;
    try {
      event = JSON.parse(frame.data);
    } catch (error) {
      return;
    }
    if (!event || typeof event.type !== "string") return;
    switch (event.type) {
      case "server.connected":
        if (event.properties && event.properties.resume === "gap") return location.reload();
        main.setAttribute("data-stream", "connected");
        return;
      case "share.header":
        return change(function () { putHeader(String(event.html)); });
      case "share.message":
        return change(function () { putMessage(String(event.id), String(event.html)); });
      case "share.message.removed":
        return change(function () { removeMessage(String(event.id)); });
      case "share.removed":
        return unshared(source);
      case "share.reload":
        return location.reload();
    }
  };
})();
`
