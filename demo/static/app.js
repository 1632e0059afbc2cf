// doorman demo: served from demo/static/ by doorman, never by a worker.
// Counts the characters typed into the message box.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var message = document.querySelector("textarea[name=message]");
  var count = document.getElementById("count");
  if (!message || !count) {
    return;
  }
  function update() {
    count.textContent = String(message.value.length);
  }
  message.addEventListener("input", update);
  update();
});
