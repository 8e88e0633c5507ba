// OpenKAM front-end glue: HTMX sends the CSRF token from <body hx-headers>; errors become a visible alert.
document.addEventListener("htmx:responseError", function (evt) {
  var box = document.createElement("div");
  box.className = "alert alert-danger position-fixed bottom-0 end-0 m-3 shadow";
  box.setAttribute("role", "alert");
  var msg = document.body.dataset.errorText || "The change could not be saved.";
  try { msg = JSON.parse(evt.detail.xhr.responseText).message || msg; } catch (e) { /* not JSON */ }
  box.textContent = msg;
  document.body.appendChild(box);
  setTimeout(function () { box.remove(); }, 6000);
});
