// reglab's book: the precomputed explorer (explorer/index.html) posts its height when it
// lays out; its frame in chapter 10 takes that height (no blank below, no inner scroll bar).
window.addEventListener("message", function (event) {
  var data = event.data;
  if (!data || typeof data.reglabExplorerHeight !== "number") return;
  document.querySelectorAll("iframe.reglab-explorer-frame").forEach(function (frame) {
    if (frame.contentWindow === event.source) {
      var borders = frame.offsetHeight - frame.clientHeight;
      frame.style.height = Math.ceil(data.reglabExplorerHeight + borders) + "px";
    }
  });
});
