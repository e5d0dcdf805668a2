// Posts the token from the link and the chosen password to the API, and shows the answer
// (the API's problem detail comes back in the page's language).
(function () {
  "use strict";
  var form = document.getElementById("set-password");
  var message = document.getElementById("message");
  var token = new URLSearchParams(window.location.search).get("token");

  function show(text, ok) {
    message.textContent = text;
    message.className = ok ? "ok" : "error";
  }

  if (!token) {
    show(form.dataset.noToken, false);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var password = document.getElementById("password").value;
    if (password !== document.getElementById("repeat").value) {
      show(form.dataset.mismatch, false);
      return;
    }
    if (!token) {
      show(form.dataset.noToken, false);
      return;
    }
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.dataset.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": form.dataset.lang },
      body: JSON.stringify({ token: token, password: password })
    })
      .then(function (response) {
        if (response.ok) {
          show(form.dataset.done, true);
          form.hidden = true;
          return null;
        }
        return response.json().then(function (problem) {
          var detail = problem.detail || form.dataset.failed;
          if (problem.errors && problem.errors.length) {
            detail = problem.errors.map(function (e) { return e.detail; }).join(" ");
          }
          show(detail, false);
          button.disabled = false;
        });
      })
      .catch(function () {
        show(form.dataset.failed, false);
        button.disabled = false;
      });
  });
})();
